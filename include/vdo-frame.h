/* osprey libvdostream: VdoFrame, the metadata of one delivered image. A
 * VdoBuffer (vdo-buffer.h) is the same GObject. */
#ifndef OSPREY_VDO_FRAME_H
#define OSPREY_VDO_FRAME_H

#include "vdo-map.h"
#include "vdo-types.h"

#include <glib-object.h>

G_BEGIN_DECLS

#define VDO_TYPE_FRAME (vdo_frame_get_type())
G_DECLARE_FINAL_TYPE(VdoFrame, vdo_frame, VDO, FRAME, GObject)

VdoFrameType vdo_frame_get_frame_type(VdoFrame* self);
/* Frames delivered by the stream so far, counting from 0; a looping video
 * keeps counting. */
guint vdo_frame_get_sequence_nbr(VdoFrame* self);
/* Microseconds, CLOCK_MONOTONIC, when the frame was delivered. */
guint64 vdo_frame_get_timestamp(VdoFrame* self);
/* Bytes of image data in the buffer. */
gsize vdo_frame_get_size(VdoFrame* self);
/* TRUE: every image fits in one buffer. */
gboolean vdo_frame_get_is_last_buffer(VdoFrame* self);

G_END_DECLS

#endif
