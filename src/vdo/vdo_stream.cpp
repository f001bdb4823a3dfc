// VdoStream: images from the configured source, converted to the settings'
// format and size, in a pool of memfd buffers the app takes and returns.
#include "vdo-stream.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <mutex>
#include <numeric>
#include <vector>

#include "vdo/convert.h"
#include "vdo/internal.h"

namespace {

using osprey::media::ReadError;

constexpr guint32 kMaxDimension = 8192;
constexpr guint32 kMaxBuffers = 64;
constexpr guint32 kDefaultBuffers = 3;
constexpr double kMaxFramerate = 1000.0;
std::atomic<guint> next_stream_id{1};

// Queued: the stream may fill it. Held: the app has it (delivered by
// get_buffer, or allocated and not yet enqueued).
enum class SlotState { kQueued, kHeld };
struct Slot {
  VdoBuffer* buffer;
  SlotState state;
};

const char* format_name(guint32 format) {
  switch (gint(format)) {
    case VDO_FORMAT_YUV: return "yuv (nv12)";
    case VDO_FORMAT_RGB: return "rgb";
    case VDO_FORMAT_PLANAR_RGB: return "planar rgb";
    case VDO_FORMAT_H264: return "h264";
    case VDO_FORMAT_H265: return "h265";
    case VDO_FORMAT_JPEG: return "jpeg";
    case VDO_FORMAT_RGBA: return "rgba";
    default: return "unknown";
  }
}

VdoFrameType frame_type(VdoFormat format) {
  return format == VDO_FORMAT_YUV   ? VDO_FRAME_TYPE_YUV
         : format == VDO_FORMAT_RGB ? VDO_FRAME_TYPE_RGB
                                    : VDO_FRAME_TYPE_PLANAR_RGB;
}

}  // namespace

struct StreamState {
  std::mutex mutex;
  guint id = 0;
  VdoMap* settings = nullptr;
  VdoFormat format = VDO_FORMAT_YUV;
  guint32 width = 0, height = 0;
  double framerate = 30.0;
  VdoBufferStrategy strategy = VDO_BUFFER_STRATEGY_INFINITE;
  VdoBufferFinalizer fin = nullptr;
  osprey::vdo::SourceConfig config;
  std::unique_ptr<osprey::media::VideoReader> source;
  std::vector<Slot> slots;
  int event_fd = -1;
  bool started = false;
  bool ended = false;
  guint sequence = 0;
  gint64 next_due_us = 0;
  osprey::media::VideoFrame frame;
  std::vector<uint8_t> scratch;

  size_t frame_bytes() const { return osprey::vdo::image_bytes(format, width, height); }
  Slot* find(VdoBuffer* buffer) {
    for (Slot& s : slots)
      if (s.buffer == buffer) return &s;
    return nullptr;
  }
};

struct _VdoStream {
  GObject parent;
  StreamState* state;
};

extern "C" {
G_DEFINE_TYPE(VdoStream, vdo_stream, G_TYPE_OBJECT)
}

static void vdo_stream_finalize(GObject* object) {
  StreamState* s = VDO_STREAM(object)->state;
  for (Slot& slot : s->slots) g_object_unref(slot.buffer);
  if (s->event_fd >= 0) close(s->event_fd);
  if (s->settings) g_object_unref(s->settings);
  delete s;
  G_OBJECT_CLASS(vdo_stream_parent_class)->finalize(object);
}

static void vdo_stream_class_init(VdoStreamClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = vdo_stream_finalize;
}
static void vdo_stream_init(VdoStream* self) {
  self->state = new StreamState;
}

namespace {

// A uint32 setting that must have that type when present.
bool setting_uint32(VdoMap* settings, const char* name, guint32 def, guint32& out, GError** error) {
  out = def;
  if (!vdo_map_contains(settings, name)) return true;
  const guint32 sentinel = vdo_map_get_uint32(settings, name, 0);
  if (sentinel != vdo_map_get_uint32(settings, name, 1)) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT,
                "setting '%s' must be an unsigned 32-bit integer", name);
    return false;
  }
  out = sentinel;
  return true;
}

bool read_settings(StreamState& s, VdoMap* settings, GError** error) {
  guint32 format = 0, channel = 0, width = 0, height = 0, strategy = 0, count = 0;
  if (!setting_uint32(settings, "format", VDO_FORMAT_YUV, format, error) ||
      !setting_uint32(settings, "channel", 1, channel, error) ||
      !setting_uint32(settings, "width", s.source->width(), width, error) ||
      !setting_uint32(settings, "height", s.source->height(), height, error) ||
      !setting_uint32(settings, "buffer.strategy", VDO_BUFFER_STRATEGY_INFINITE, strategy, error) ||
      !setting_uint32(settings, "buffer.count", kDefaultBuffers, count, error))
    return false;
  if (vdo_map_contains(settings, "resolution")) {
    const VdoPair32u none = {G_MAXUINT32, G_MAXUINT32};
    const VdoPair32u r = vdo_map_get_pair32u(settings, "resolution", none);
    if (r.w == none.w && r.h == none.h) {
      g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "setting 'resolution' must be a VdoPair32u");
      return false;
    }
    width = r.w;
    height = r.h;
  }
  if (!osprey::vdo::is_served_format(format)) {
    g_set_error(
        error, VDO_ERROR, VDO_ERROR_NOT_SUPPORTED,
        "format %u (%s) is not served by osprey's video source: use VDO_FORMAT_YUV, VDO_FORMAT_RGB or "
        "VDO_FORMAT_PLANAR_RGB",
        format, format_name(format));
    return false;
  }
  s.format = VdoFormat(format);
  if (channel != 1) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_NOT_FOUND, "no channel %u: the osprey video source is channel 1",
                channel);
    return false;
  }
  if (width == 0 || height == 0 || width > kMaxDimension || height > kMaxDimension) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "stream size %ux%u is not in 1x1 .. %ux%u",
                width, height, kMaxDimension, kMaxDimension);
    return false;
  }
  if (s.format == VDO_FORMAT_YUV && (width % 2 || height % 2)) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT,
                "a yuv (nv12) stream needs an even size, not %ux%u", width, height);
    return false;
  }
  s.width = width;
  s.height = height;
  if (strategy == VDO_BUFFER_STRATEGY_NONE) strategy = VDO_BUFFER_STRATEGY_INFINITE;
  if (strategy != VDO_BUFFER_STRATEGY_INFINITE && strategy != VDO_BUFFER_STRATEGY_EXPLICIT) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_NOT_SUPPORTED,
                "buffer.strategy %u is not served: use VDO_BUFFER_STRATEGY_INFINITE or _EXPLICIT", strategy);
    return false;
  }
  s.strategy = VdoBufferStrategy(strategy);
  if (s.strategy == VDO_BUFFER_STRATEGY_INFINITE && (count == 0 || count > kMaxBuffers)) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "buffer.count %u is not in 1 .. %u", count,
                kMaxBuffers);
    return false;
  }
  s.framerate = vdo_map_get_double(settings, "framerate", s.source->framerate());
  if (vdo_map_contains(settings, "framerate") && std::isnan(vdo_map_get_double(settings, "framerate", NAN))) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "setting 'framerate' must be a number");
    return false;
  }
  if (!(s.framerate > 0 && s.framerate <= kMaxFramerate)) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "framerate %g is not in (0, %g]", s.framerate,
                kMaxFramerate);
    return false;
  }
  if (s.strategy == VDO_BUFFER_STRATEGY_INFINITE) {
    for (guint32 i = 0; i < count; ++i) {
      VdoBuffer* b = osprey::vdo::buffer_new(s.frame_bytes(), i, nullptr, s.fin, error);
      if (!b) return false;
      s.slots.push_back({b, SlotState::kQueued});
    }
  }
  return true;
}

bool check_stream(VdoStream* self, const char* function, GError** error) {
  if (VDO_IS_STREAM(self)) return true;
  g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "%s: not a VdoStream", function);
  return false;
}

// Decodes the next image, looping or ending as configured.
bool next_image(StreamState& s, GError** error) {
  std::string message;
  ReadError code = s.source->next(s.frame, message);
  if (code == ReadError::kEnd && s.config.loop) {
    if (!s.source->rewind(message)) {
      g_set_error(error, VDO_ERROR, VDO_ERROR_IO, "%s", message.c_str());
      return false;
    }
    code = s.source->next(s.frame, message);
    if (code == ReadError::kEnd) message = s.source->path() + ": no frames after rewinding";
  }
  if (code == ReadError::kEnd && !s.config.loop) {
    s.ended = true;
    g_set_error(error, VDO_ERROR, VDO_ERROR_CLOSED,
                "end of video %s after %u frames (set OSPREY_VDO_LOOP=1 to loop)", s.source->path().c_str(),
                s.sequence);
    return false;
  }
  if (code != ReadError::kNone) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_IO, "%s", message.c_str());
    return false;
  }
  return true;
}

}  // namespace

extern "C" {

VdoStream* vdo_stream_new(VdoMap* settings, VdoBufferFinalizer fin, GError** error) {
  if (!VDO_IS_MAP(settings)) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "vdo_stream_new: settings must be a VdoMap");
    return nullptr;
  }
  VdoStream* self = VDO_STREAM(g_object_new(VDO_TYPE_STREAM, nullptr));
  StreamState& s = *self->state;
  s.fin = fin;
  s.source = osprey::vdo::open_configured_source(s.config, error);
  if (!s.source || !read_settings(s, settings, error)) {
    g_object_unref(self);
    return nullptr;
  }
  s.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s.event_fd < 0) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_FAILED, "eventfd: %s", strerror(errno));
    g_object_unref(self);
    return nullptr;
  }
  s.id = next_stream_id++;
  s.settings = vdo_map_new();
  vdo_map_merge(s.settings, settings);
  return self;
}

guint vdo_stream_get_id(VdoStream* self) {
  g_return_val_if_fail(VDO_IS_STREAM(self), 0);
  return self->state->id;
}

gint vdo_stream_get_fd(VdoStream* self, GError** error) {
  if (!check_stream(self, "vdo_stream_get_fd", error)) return -1;
  return self->state->event_fd;
}

VdoMap* vdo_stream_get_info(VdoStream* self, GError** error) {
  if (!check_stream(self, "vdo_stream_get_info", error)) return nullptr;
  StreamState& s = *self->state;
  std::lock_guard lock(s.mutex);
  VdoMap* info = vdo_map_new();
  vdo_map_set_uint32(info, "id", s.id);
  vdo_map_set_uint32(info, "channel", 1);
  vdo_map_set_uint32(info, "format", guint32(s.format));
  vdo_map_set_uint32(info, "width", s.width);
  vdo_map_set_uint32(info, "height", s.height);
  vdo_map_set_uint32(info, "pitch", osprey::vdo::image_pitch(s.format, s.width));
  vdo_map_set_uint32(info, "rotation", 0);
  vdo_map_set_double(info, "framerate", s.framerate);
  vdo_map_set_uint32(info, "buffer.strategy", guint32(s.strategy));
  vdo_map_set_uint32(info, "buffer.count", guint32(s.slots.size()));
  vdo_map_set_string(info, "buffer.type", "memfd");
  vdo_map_set_uint64(info, "size", s.frame_bytes());
  const guint32 g = std::gcd(s.width, s.height);
  vdo_map_set_pair32u(info, "aspect_ratio", VdoPair32u{s.width / g, s.height / g});
  vdo_map_set_string(info, "source", s.source->path().c_str());
  return info;
}

VdoMap* vdo_stream_get_settings(VdoStream* self, GError** error) {
  if (!check_stream(self, "vdo_stream_get_settings", error)) return nullptr;
  std::lock_guard lock(self->state->mutex);
  VdoMap* copy = vdo_map_new();
  vdo_map_merge(copy, self->state->settings);
  return copy;
}

gboolean vdo_stream_set_framerate(VdoStream* self, gdouble framerate, GError** error) {
  if (!check_stream(self, "vdo_stream_set_framerate", error)) return FALSE;
  if (!(framerate > 0 && framerate <= kMaxFramerate)) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "framerate %g is not in (0, %g]", framerate,
                kMaxFramerate);
    return FALSE;
  }
  std::lock_guard lock(self->state->mutex);
  self->state->framerate = framerate;
  vdo_map_set_double(self->state->settings, "framerate", framerate);
  return TRUE;
}

gboolean vdo_stream_start(VdoStream* self, GError** error) {
  if (!check_stream(self, "vdo_stream_start", error)) return FALSE;
  StreamState& s = *self->state;
  std::lock_guard lock(s.mutex);
  if (!s.started) {
    const uint64_t one = 1;
    if (write(s.event_fd, &one, sizeof one) != sizeof one) {
      g_set_error(error, VDO_ERROR, VDO_ERROR_FAILED, "cannot signal the stream fd: %s", strerror(errno));
      return FALSE;
    }
    s.started = true;
    s.next_due_us = g_get_monotonic_time();
  }
  return TRUE;
}

void vdo_stream_stop(VdoStream* self) {
  g_return_if_fail(VDO_IS_STREAM(self));
  StreamState& s = *self->state;
  std::lock_guard lock(s.mutex);
  uint64_t count = 0;
  if (s.started && read(s.event_fd, &count, sizeof count) < 0)
    g_warning("vdo: draining the stream fd failed");
  s.started = false;
}

VdoBuffer* vdo_stream_get_buffer(VdoStream* self, GError** error) {
  if (!check_stream(self, "vdo_stream_get_buffer", error)) return nullptr;
  StreamState& s = *self->state;
  std::lock_guard lock(s.mutex);
  if (!s.started) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "stream %u is not started (vdo_stream_start)",
                s.id);
    return nullptr;
  }
  if (s.ended) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_CLOSED, "end of video %s (set OSPREY_VDO_LOOP=1 to loop)",
                s.source->path().c_str());
    return nullptr;
  }
  Slot* slot = nullptr;
  for (Slot& candidate : s.slots)
    if (candidate.state == SlotState::kQueued) {
      slot = &candidate;
      break;
    }
  if (!slot) {
    if (s.strategy == VDO_BUFFER_STRATEGY_INFINITE)
      g_set_error(error, VDO_ERROR, VDO_ERROR_BUFFER_FAILURE,
                  "all %zu buffers of stream %u are held by the application: return each one with "
                  "vdo_stream_buffer_unref()",
                  s.slots.size(), s.id);
    else
      g_set_error(error, VDO_ERROR, VDO_ERROR_BUFFER_FAILURE,
                  "no buffer is enqueued on stream %u (%zu allocated): vdo_stream_buffer_enqueue() one", s.id,
                  s.slots.size());
    return nullptr;
  }
  if (s.config.realtime) {
    const gint64 now = g_get_monotonic_time();
    if (s.next_due_us > now) g_usleep(gulong(s.next_due_us - now));
    s.next_due_us = std::max(s.next_due_us, now) + gint64(1e6 / s.framerate);
  }
  if (!next_image(s, error)) return nullptr;
  auto* data = static_cast<uint8_t*>(vdo_buffer_get_data(slot->buffer));
  osprey::vdo::convert_image(s.frame.image, s.format, s.width, s.height, data, s.scratch);
  osprey::vdo::buffer_set_frame(slot->buffer, frame_type(s.format), s.sequence++,
                                guint64(g_get_monotonic_time()), s.frame_bytes());
  slot->state = SlotState::kHeld;
  return VDO_FRAME(g_object_ref(slot->buffer));
}

gboolean vdo_stream_buffer_unref(VdoStream* self, VdoBuffer** buffer, GError** error) {
  if (!check_stream(self, "vdo_stream_buffer_unref", error)) return FALSE;
  if (!buffer || !VDO_IS_FRAME(*buffer)) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "vdo_stream_buffer_unref: no buffer given");
    return FALSE;
  }
  StreamState& s = *self->state;
  std::lock_guard lock(s.mutex);
  Slot* slot = s.find(*buffer);
  if (!slot) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "buffer %u does not belong to stream %u",
                vdo_buffer_get_id(*buffer), s.id);
    return FALSE;
  }
  if (s.strategy == VDO_BUFFER_STRATEGY_INFINITE) {
    if (slot->state == SlotState::kQueued) {
      g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "buffer %u was already returned to stream %u",
                  vdo_buffer_get_id(*buffer), s.id);
      return FALSE;
    }
    slot->state = SlotState::kQueued;
  } else {
    g_object_unref(slot->buffer);  // the stream's reference: the buffer leaves the pool
    s.slots.erase(s.slots.begin() + (slot - s.slots.data()));
  }
  g_object_unref(*buffer);
  *buffer = nullptr;
  return TRUE;
}

VdoBuffer* vdo_stream_buffer_alloc(VdoStream* self, gpointer opaque, GError** error) {
  if (!check_stream(self, "vdo_stream_buffer_alloc", error)) return nullptr;
  StreamState& s = *self->state;
  std::lock_guard lock(s.mutex);
  if (s.strategy != VDO_BUFFER_STRATEGY_EXPLICIT) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_NOT_SUPPORTED,
                "vdo_stream_buffer_alloc needs buffer.strategy VDO_BUFFER_STRATEGY_EXPLICIT");
    return nullptr;
  }
  if (s.slots.size() >= kMaxBuffers) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_NO_BUFFER_SPACE, "stream %u already has %u buffers", s.id,
                kMaxBuffers);
    return nullptr;
  }
  guint32 id = 0;
  for (const Slot& slot : s.slots) id = std::max(id, vdo_buffer_get_id(slot.buffer) + 1);
  VdoBuffer* b = osprey::vdo::buffer_new(s.frame_bytes(), id, opaque, s.fin, error);
  if (!b) return nullptr;
  s.slots.push_back({b, SlotState::kHeld});
  return VDO_FRAME(g_object_ref(b));
}

gboolean vdo_stream_buffer_enqueue(VdoStream* self, VdoBuffer* buffer, GError** error) {
  if (!check_stream(self, "vdo_stream_buffer_enqueue", error)) return FALSE;
  StreamState& s = *self->state;
  std::lock_guard lock(s.mutex);
  Slot* slot = VDO_IS_FRAME(buffer) ? s.find(buffer) : nullptr;
  if (!slot) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT,
                "vdo_stream_buffer_enqueue: not a buffer of stream %u", s.id);
    return FALSE;
  }
  slot->state = SlotState::kQueued;
  return TRUE;
}

}  // extern "C"
