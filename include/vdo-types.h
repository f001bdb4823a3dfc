/* osprey's VDO-compatible video source (libvdostream): common types.
 * Names, types and enum values follow the public VDO API documentation
 * (developer.axis.com, libvdo); only what osprey implements is declared. */
#ifndef OSPREY_VDO_TYPES_H
#define OSPREY_VDO_TYPES_H

#include <glib-object.h>

G_BEGIN_DECLS

/* Stream formats, in the documented order (the docs show BAYER = 4 .. RGBA =
 * 7). osprey serves the uncompressed ones marked "served". */
typedef enum {
  VDO_FORMAT_NONE = -1,
  VDO_FORMAT_H264 = 0,
  VDO_FORMAT_H265 = 1,
  VDO_FORMAT_JPEG = 2,
  VDO_FORMAT_YUV = 3, /* served: NV12 (Y plane, then interleaved UV) */
  VDO_FORMAT_BAYER = 4,
  VDO_FORMAT_IVS = 5,
  VDO_FORMAT_RAW = 6,
  VDO_FORMAT_RGBA = 7,
  VDO_FORMAT_RGB = 8,        /* served: interleaved R, G, B bytes */
  VDO_FORMAT_PLANAR_RGB = 9, /* served: R plane, G plane, B plane */
} VdoFormat;

/* Frame types of the formats osprey serves (osprey's values: compare by name). */
typedef enum {
  VDO_FRAME_TYPE_NONE = 0,
  VDO_FRAME_TYPE_YUV,
  VDO_FRAME_TYPE_RGB,
  VDO_FRAME_TYPE_PLANAR_RGB,
} VdoFrameType;

/* INFINITE (default): the stream owns its buffer.count buffers and the app
 * returns each one with vdo_stream_buffer_unref(). EXPLICIT: the app allocates
 * buffers with vdo_stream_buffer_alloc() and queues them with
 * vdo_stream_buffer_enqueue(). (osprey's values: compare by name.) */
typedef enum {
  VDO_BUFFER_STRATEGY_NONE = 0,
  VDO_BUFFER_STRATEGY_EXPLICIT = 1,
  VDO_BUFFER_STRATEGY_INFINITE = 2,
} VdoBufferStrategy;

typedef struct {
  guint width;
  guint height;
} VdoResolution;

/* Returned by vdo_channel_get_resolutions(); freed with g_free() (or free()). */
typedef struct {
  gsize count;
  VdoResolution resolutions[];
} VdoResolutionSet;

typedef struct {
  guint x;
  guint y;
  guint width;
  guint height;
} VdoRect;

typedef struct {
  guint32 w;
  guint32 h;
} VdoPair32u;

G_END_DECLS

#endif
