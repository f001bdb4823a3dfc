/* osprey libvdostream: VdoBuffer, a shareable memory buffer (its own memfd)
 * holding one image. Hand vdo_buffer_get_fd() + vdo_buffer_get_offset() to
 * Larod for zero-copy input. */
#ifndef OSPREY_VDO_BUFFER_H
#define OSPREY_VDO_BUFFER_H

#include "vdo-frame.h"

G_BEGIN_DECLS

typedef VdoFrame VdoBuffer;
/* g_autoptr(VdoBuffer) drops the reference with g_object_unref(). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdoBuffer, g_object_unref)

typedef void (*VdoBufferFinalizer)(VdoBuffer* self);

guint32 vdo_buffer_get_id(VdoBuffer* self);
gint vdo_buffer_get_fd(VdoBuffer* self);
gint64 vdo_buffer_get_offset(VdoBuffer* self);
gsize vdo_buffer_get_capacity(VdoBuffer* self);
gboolean vdo_buffer_is_complete(VdoBuffer* self);
gboolean vdo_buffer_is_contiguous(VdoBuffer* self);
gpointer vdo_buffer_get_opaque(VdoBuffer* self);
/* The buffer's memory, mapped read-write for the buffer's lifetime. */
gpointer vdo_buffer_get_data(VdoBuffer* self);
VdoFrame* vdo_buffer_get_frame(VdoBuffer* self);

G_END_DECLS

#endif
