// VdoFrame / VdoBuffer: one image's memory (its own memfd, so Larod can take
// fd + offset zero-copy) and the metadata of the frame in it.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vdo/internal.h"

struct _VdoFrame {
  GObject parent;
  int fd;
  gsize capacity;
  void* data;
  guint32 id;
  gpointer opaque;
  VdoBufferFinalizer fin;
  VdoFrameType type;
  guint sequence;
  guint64 timestamp;
  gsize size;
};

extern "C" {
G_DEFINE_TYPE(VdoFrame, vdo_frame, G_TYPE_OBJECT)
}

static void vdo_frame_finalize(GObject* object) {
  VdoFrame* self = VDO_FRAME(object);
  if (self->fin) self->fin(self);
  if (self->data) munmap(self->data, self->capacity);
  if (self->fd >= 0) close(self->fd);
  G_OBJECT_CLASS(vdo_frame_parent_class)->finalize(object);
}

static void vdo_frame_class_init(VdoFrameClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = vdo_frame_finalize;
}

static void vdo_frame_init(VdoFrame* self) {
  self->fd = -1;
  self->type = VDO_FRAME_TYPE_NONE;
}

namespace osprey::vdo {

VdoBuffer* buffer_new(gsize capacity, guint32 id, gpointer opaque, VdoBufferFinalizer fin, GError** error) {
  VdoFrame* self = VDO_FRAME(g_object_new(VDO_TYPE_FRAME, nullptr));
  self->fd = memfd_create("vdo-buffer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (self->fd < 0 || ftruncate(self->fd, off_t(capacity)) != 0) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_OOM, "cannot allocate a %zu-byte buffer: %s", capacity,
                strerror(errno));
    g_object_unref(self);
    return nullptr;
  }
  void* data = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
  if (data == MAP_FAILED) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_OOM, "cannot map a %zu-byte buffer: %s", capacity,
                strerror(errno));
    g_object_unref(self);
    return nullptr;
  }
  self->data = data;
  self->capacity = capacity;
  self->id = id;
  self->opaque = opaque;
  self->fin = fin;  // set last: a buffer that never existed is not finalized for the app
  return self;
}

void buffer_set_frame(VdoBuffer* buffer, VdoFrameType type, guint sequence, guint64 timestamp, gsize size) {
  buffer->type = type;
  buffer->sequence = sequence;
  buffer->timestamp = timestamp;
  buffer->size = size;
}

}  // namespace osprey::vdo

extern "C" {

VdoFrameType vdo_frame_get_frame_type(VdoFrame* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), VDO_FRAME_TYPE_NONE);
  return self->type;
}
guint vdo_frame_get_sequence_nbr(VdoFrame* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), 0);
  return self->sequence;
}
guint64 vdo_frame_get_timestamp(VdoFrame* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), 0);
  return self->timestamp;
}
gsize vdo_frame_get_size(VdoFrame* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), 0);
  return self->size;
}
gboolean vdo_frame_get_is_last_buffer(VdoFrame* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), FALSE);
  return TRUE;  // every image fits one buffer
}

guint32 vdo_buffer_get_id(VdoBuffer* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), 0);
  return self->id;
}
gint vdo_buffer_get_fd(VdoBuffer* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), -1);
  return self->fd;
}
gint64 vdo_buffer_get_offset(VdoBuffer* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), 0);
  return 0;  // each buffer has a memfd of its own
}
gsize vdo_buffer_get_capacity(VdoBuffer* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), 0);
  return self->capacity;
}
gboolean vdo_buffer_is_complete(VdoBuffer* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), FALSE);
  return TRUE;
}
gboolean vdo_buffer_is_contiguous(VdoBuffer* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), FALSE);
  return TRUE;
}
gpointer vdo_buffer_get_opaque(VdoBuffer* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), nullptr);
  return self->opaque;
}
gpointer vdo_buffer_get_data(VdoBuffer* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), nullptr);
  return self->data;
}
VdoFrame* vdo_buffer_get_frame(VdoBuffer* self) {
  g_return_val_if_fail(VDO_IS_FRAME(self), nullptr);
  return self;
}

}  // extern "C"
