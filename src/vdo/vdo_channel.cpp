// VdoChannel: the configured video source seen as the camera's one channel.
#include "vdo-channel.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "vdo/convert.h"
#include "vdo/internal.h"

namespace {

constexpr guint kChannelId = 1;

// The sizes a stream may ask for on this "camera": common ones up to 4K and
// the source's own (libyuv scales any size; the list is what apps choose from).
std::vector<VdoResolution> stream_resolutions(int source_width, int source_height) {
  std::vector<VdoResolution> list = {{160, 90},    {320, 180},   {480, 270},  {640, 360},
                                     {640, 480},   {800, 600},   {1024, 576}, {1280, 720},
                                     {1920, 1080}, {2560, 1440}, {3840, 2160}};
  list.push_back({guint(source_width), guint(source_height)});
  std::sort(list.begin(), list.end(), [](const VdoResolution& a, const VdoResolution& b) {
    return guint64(a.width) * a.height != guint64(b.width) * b.height
               ? guint64(a.width) * a.height < guint64(b.width) * b.height
               : a.width < b.width;
  });
  list.erase(std::unique(list.begin(), list.end(),
                         [](const VdoResolution& a, const VdoResolution& b) {
                           return a.width == b.width && a.height == b.height;
                         }),
             list.end());
  return list;
}

}  // namespace

struct _VdoChannel {
  GObject parent;
  int width, height;
  double framerate;
};

extern "C" {
G_DEFINE_TYPE(VdoChannel, vdo_channel, G_TYPE_OBJECT)
}

static void vdo_channel_class_init(VdoChannelClass*) {}
static void vdo_channel_init(VdoChannel*) {}

namespace osprey::vdo {

std::unique_ptr<media::VideoReader> open_configured_source(SourceConfig& config, GError** error) {
  std::string message;
  if (!load_source_config(config, message)) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "%s", message.c_str());
    return nullptr;
  }
  if (config.source.empty()) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_NOT_FOUND,
                "no video source: set OSPREY_VDO_SOURCE to a video file, an image folder or /dev/videoN "
                "(or source = ... in the OSPREY_VDO_CONFIG file)");
    return nullptr;
  }
  media::ReadError code = media::ReadError::kNone;
  auto source = media::VideoReader::open(config.source, code, message);
  if (!source)
    g_set_error(error, VDO_ERROR, code == media::ReadError::kNotFound ? VDO_ERROR_NOT_FOUND : VDO_ERROR_IO,
                "%s", message.c_str());
  return source;
}

}  // namespace osprey::vdo

extern "C" {

VdoChannel* vdo_channel_get(guint nbr, GError** error) {
  if (nbr != kChannelId) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_NOT_FOUND, "no channel %u: the osprey video source is channel %u",
                nbr, kChannelId);
    return nullptr;
  }
  osprey::vdo::SourceConfig config;
  auto source = osprey::vdo::open_configured_source(config, error);
  if (!source) return nullptr;
  VdoChannel* self = VDO_CHANNEL(g_object_new(VDO_TYPE_CHANNEL, nullptr));
  self->width = source->width();
  self->height = source->height();
  self->framerate = source->framerate();
  return self;
}

VdoChannel* vdo_channel_get_ex(VdoMap* desc, GError** error) {
  const guint id = vdo_map_get_uint32(desc, "id", vdo_map_get_uint32(desc, "input", kChannelId));
  return vdo_channel_get(id, error);
}

guint vdo_channel_get_id(VdoChannel* self) {
  g_return_val_if_fail(VDO_IS_CHANNEL(self), 0);
  return kChannelId;
}

VdoMap* vdo_channel_get_info(VdoChannel* self, GError** error) {
  if (!VDO_IS_CHANNEL(self)) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT, "vdo_channel_get_info: not a VdoChannel");
    return nullptr;
  }
  VdoMap* info = vdo_map_new();
  vdo_map_set_uint32(info, "id", kChannelId);
  vdo_map_set_uint32(info, "input", kChannelId);
  vdo_map_set_uint32(info, "width", guint32(self->width));
  vdo_map_set_uint32(info, "height", guint32(self->height));
  vdo_map_set_uint32(info, "rotation", 0);
  vdo_map_set_double(info, "framerate", self->framerate);
  const int g = std::gcd(self->width, self->height);
  vdo_map_set_pair32u(info, "aspect_ratio", VdoPair32u{guint32(self->width / g), guint32(self->height / g)});
  return info;
}

VdoResolutionSet* vdo_channel_get_resolutions(VdoChannel* self, const VdoMap* filter, GError** error) {
  if (!VDO_IS_CHANNEL(self)) {
    g_set_error(error, VDO_ERROR, VDO_ERROR_INVALID_ARGUMENT,
                "vdo_channel_get_resolutions: not a VdoChannel");
    return nullptr;
  }
  std::vector<VdoResolution> list = stream_resolutions(self->width, self->height);
  if (filter) {
    if (!osprey::vdo::is_served_format(vdo_map_get_uint32(filter, "format", VDO_FORMAT_YUV))) list.clear();
    // "native": only the source's own aspect ratio, so a stream chosen from
    // the list is not stretched (what the examples' channel_util asks for).
    if (g_strcmp0(vdo_map_get_string(filter, "aspect_ratio", nullptr, "all"), "native") == 0) {
      std::erase_if(list, [self](const VdoResolution& r) {
        return guint64(r.width) * guint64(self->height) != guint64(r.height) * guint64(self->width);
      });
    }
    const gchar* select = vdo_map_get_string(filter, "select", nullptr, "all");
    if (g_strcmp0(select, "minmax") == 0 && !list.empty()) list = {list.front(), list.back()};
  }
  auto* set = static_cast<VdoResolutionSet*>(
      g_malloc0(sizeof(VdoResolutionSet) + list.size() * sizeof(VdoResolution)));
  set->count = list.size();
  std::copy(list.begin(), list.end(), set->resolutions);
  return set;
}

}  // extern "C"
