/* osprey libvdostream: VdoStream, a stream of images from the video source
 * (a video file, an image folder or a V4L2 camera; see docs/service.md),
 * scaled and converted to the settings' format and size. */
#ifndef OSPREY_VDO_STREAM_H
#define OSPREY_VDO_STREAM_H

#include "vdo-buffer.h"
#include "vdo-frame.h"
#include "vdo-map.h"
#include "vdo-types.h"

#include <glib-object.h>

G_BEGIN_DECLS

#define VDO_TYPE_STREAM (vdo_stream_get_type())
G_DECLARE_FINAL_TYPE(VdoStream, vdo_stream, VDO, STREAM, GObject)

/* Settings: "format" (VDO_FORMAT_YUV, _RGB, _PLANAR_RGB), "width"/"height" or
 * "resolution" (pair), "framerate", "buffer.count" (INFINITE strategy, default
 * 3), "buffer.strategy", "channel" (1). fin, when given, is called for each
 * buffer as it is finalized. */
VdoStream* vdo_stream_new(VdoMap* settings, VdoBufferFinalizer fin, GError** error);
guint vdo_stream_get_id(VdoStream* self);
/* Readable while the stream is started: poll() it, then get a buffer. */
gint vdo_stream_get_fd(VdoStream* self, GError** error);
VdoMap* vdo_stream_get_info(VdoStream* self, GError** error);
VdoMap* vdo_stream_get_settings(VdoStream* self, GError** error);
gboolean vdo_stream_set_framerate(VdoStream* self, gdouble framerate, GError** error);
gboolean vdo_stream_start(VdoStream* self, GError** error);
void vdo_stream_stop(VdoStream* self);

/* The next image, in a buffer the app holds until vdo_stream_buffer_unref()
 * (INFINITE) or vdo_stream_buffer_enqueue() (EXPLICIT). Fails with
 * VDO_ERROR_BUFFER_FAILURE when the app holds every buffer, VDO_ERROR_CLOSED
 * at the end of a video that does not loop, VDO_ERROR_IO on a decode error. */
VdoBuffer* vdo_stream_get_buffer(VdoStream* self, GError** error);
/* Returns *buffer to the stream (INFINITE) or frees it (EXPLICIT), drops the
 * caller's reference and sets *buffer to NULL. */
gboolean vdo_stream_buffer_unref(VdoStream* self, VdoBuffer** buffer, GError** error);
VdoBuffer* vdo_stream_buffer_alloc(VdoStream* self, gpointer opaque, GError** error);
gboolean vdo_stream_buffer_enqueue(VdoStream* self, VdoBuffer* buffer, GError** error);

G_END_DECLS

#endif
