// VdoStream on vtest.avi: frame content against libav's own decode, buffer
// properties, the poll fd, the explicit buffer strategy, channel queries.
#include <poll.h>
#include <sys/mman.h>

#include <cmath>
#include <cstring>
#include <set>

#include "reference_decode.h"
#include "vdo-channel.h"
#include "vdo-stream.h"
#include "vdo_test_env.h"

namespace osprey::vdo_test {
namespace {

VdoStream* new_stream(VdoFormat format, guint32 width, guint32 height, guint32 buffers, GError** error) {
  g_autoptr(VdoMap) settings = vdo_map_new();
  vdo_map_set_uint32(settings, "channel", 1);
  vdo_map_set_uint32(settings, "format", format);
  vdo_map_set_uint32(settings, "width", width);
  vdo_map_set_uint32(settings, "height", height);
  vdo_map_set_uint32(settings, "buffer.count", buffers);
  vdo_map_set_double(settings, "framerate", 30.0);
  return vdo_stream_new(settings, nullptr, error);
}

double mean_abs_diff(const uint8_t* a, const uint8_t* b, size_t n, int* max_diff) {
  double sum = 0;
  *max_diff = 0;
  for (size_t i = 0; i < n; ++i) {
    const int d = std::abs(int(a[i]) - int(b[i]));
    sum += d;
    *max_diff = std::max(*max_diff, d);
  }
  return sum / double(n);
}

class VdoStreamTest : public VdoEnvTest {};

TEST_F(VdoStreamTest, Nv12AtTheVideoSizeIsTheDecodedFrameExactly) {
  use_vtest();
  const int w = 768, h = 576, frames = 6;
  const auto reference = reference_frames(vtest_, frames, AV_PIX_FMT_NV12, w, h);
  ASSERT_EQ(int(reference.size()), frames);
  g_autoptr(GError) error = nullptr;
  g_autoptr(VdoStream) stream = new_stream(VDO_FORMAT_YUV, w, h, 2, &error);
  ASSERT_NE(stream, nullptr) << error->message;
  ASSERT_TRUE(vdo_stream_start(stream, &error)) << error->message;
  for (int k = 0; k < frames; ++k) {
    VdoBuffer* buffer = vdo_stream_get_buffer(stream, &error);
    ASSERT_NE(buffer, nullptr) << error->message;
    VdoFrame* frame = vdo_buffer_get_frame(buffer);
    EXPECT_EQ(vdo_frame_get_sequence_nbr(frame), guint(k));
    EXPECT_EQ(vdo_frame_get_frame_type(frame), VDO_FRAME_TYPE_YUV);
    ASSERT_EQ(vdo_frame_get_size(frame), reference[k].size());
    int max_diff = 0;
    const double mean = mean_abs_diff(static_cast<uint8_t*>(vdo_buffer_get_data(buffer)), reference[k].data(),
                                      reference[k].size(), &max_diff);
    EXPECT_EQ(max_diff, 0) << "frame " << k << " mean difference " << mean;
    ASSERT_TRUE(vdo_stream_buffer_unref(stream, &buffer, &error)) << error->message;
    EXPECT_EQ(buffer, nullptr);
  }
}

// Scaled output comes from libyuv, the reference from swscale: close, not equal.
void expect_scaled_close(const std::string& vtest, VdoFormat format, AVPixelFormat ref_format, int w, int h,
                         double max_mean) {
  const int frames = 4;
  const auto reference = reference_frames(vtest, frames + 40, ref_format, w, h);
  ASSERT_EQ(int(reference.size()), frames + 40);
  g_autoptr(GError) error = nullptr;
  g_autoptr(VdoStream) stream = new_stream(format, w, h, 3, &error);
  ASSERT_NE(stream, nullptr) << error->message;
  ASSERT_TRUE(vdo_stream_start(stream, &error)) << error->message;
  for (int k = 0; k < frames; ++k) {
    VdoBuffer* buffer = vdo_stream_get_buffer(stream, &error);
    ASSERT_NE(buffer, nullptr) << error->message;
    ASSERT_EQ(vdo_frame_get_size(buffer), reference[k].size());
    const auto* data = static_cast<uint8_t*>(vdo_buffer_get_data(buffer));
    int max_diff = 0;
    const double mean = mean_abs_diff(data, reference[k].data(), reference[k].size(), &max_diff);
    EXPECT_LT(mean, max_mean) << "frame " << k << " (max difference " << max_diff << ")";
    // A frame 40 later (people have walked) is further away than the right one.
    const double other = mean_abs_diff(data, reference[k + 40].data(), reference[k].size(), &max_diff);
    EXPECT_GT(other, mean) << "frame " << k;
    ASSERT_TRUE(vdo_stream_buffer_unref(stream, &buffer, &error)) << error->message;
  }
}

// At the video's size only the YUV -> RGB conversions differ (chroma
// upsampling, rounding); a swapped channel order would be far off.
TEST_F(VdoStreamTest, RgbAtTheVideoSizeMatchesSwscale) {
  use_vtest();
  expect_scaled_close(vtest_, VDO_FORMAT_RGB, AV_PIX_FMT_RGB24, 768, 576, 1.5);
}

TEST_F(VdoStreamTest, RgbScaledDownMatchesSwscale) {
  use_vtest();
  expect_scaled_close(vtest_, VDO_FORMAT_RGB, AV_PIX_FMT_RGB24, 320, 240, 5.0);
}

TEST_F(VdoStreamTest, Nv12ScaledDownMatchesSwscale) {
  use_vtest();
  expect_scaled_close(vtest_, VDO_FORMAT_YUV, AV_PIX_FMT_NV12, 384, 288, 2.0);
}

TEST_F(VdoStreamTest, PlanarRgbIsTheRgbStreamSplitIntoPlanes) {
  use_vtest();
  const int w = 224, h = 160;
  g_autoptr(GError) error = nullptr;
  g_autoptr(VdoStream) rgb = new_stream(VDO_FORMAT_RGB, w, h, 1, &error);
  g_autoptr(VdoStream) planar = new_stream(VDO_FORMAT_PLANAR_RGB, w, h, 1, &error);
  ASSERT_TRUE(rgb && planar);
  ASSERT_TRUE(vdo_stream_start(rgb, &error) && vdo_stream_start(planar, &error));
  VdoBuffer* a = vdo_stream_get_buffer(rgb, &error);
  VdoBuffer* b = vdo_stream_get_buffer(planar, &error);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(vdo_frame_get_frame_type(b), VDO_FRAME_TYPE_PLANAR_RGB);
  const auto* interleaved = static_cast<uint8_t*>(vdo_buffer_get_data(a));
  const auto* planes = static_cast<uint8_t*>(vdo_buffer_get_data(b));
  const size_t plane = size_t(w) * h;
  size_t mismatches = 0;
  for (size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) mismatches += interleaved[3 * i + c] != planes[c * plane + i];
  EXPECT_EQ(mismatches, 0u);
  ASSERT_TRUE(vdo_stream_buffer_unref(rgb, &a, &error));
  ASSERT_TRUE(vdo_stream_buffer_unref(planar, &b, &error));
}

TEST_F(VdoStreamTest, BuffersAreSeparateShareableMemfds) {
  use_vtest();
  g_autoptr(GError) error = nullptr;
  g_autoptr(VdoStream) stream = new_stream(VDO_FORMAT_RGB, 300, 300, 3, &error);
  ASSERT_NE(stream, nullptr) << error->message;
  ASSERT_TRUE(vdo_stream_start(stream, &error));
  std::set<int> fds;
  VdoBuffer* held[3] = {};
  guint64 last_timestamp = 0;
  for (auto& buffer : held) {
    buffer = vdo_stream_get_buffer(stream, &error);
    ASSERT_NE(buffer, nullptr) << error->message;
    const int fd = vdo_buffer_get_fd(buffer);
    fds.insert(fd);
    EXPECT_EQ(vdo_buffer_get_offset(buffer), 0);
    EXPECT_GE(vdo_buffer_get_capacity(buffer), size_t(300 * 300 * 3));
    EXPECT_GE(vdo_frame_get_timestamp(buffer), last_timestamp);
    last_timestamp = vdo_frame_get_timestamp(buffer);
    EXPECT_TRUE(vdo_frame_get_is_last_buffer(buffer));
    // Another mapping of the fd (what Larod does) sees the same image.
    void* mapped = mmap(nullptr, vdo_buffer_get_capacity(buffer), PROT_READ, MAP_SHARED, fd, 0);
    ASSERT_NE(mapped, MAP_FAILED);
    EXPECT_EQ(memcmp(mapped, vdo_buffer_get_data(buffer), vdo_frame_get_size(buffer)), 0);
    munmap(mapped, vdo_buffer_get_capacity(buffer));
  }
  EXPECT_EQ(fds.size(), 3u);
  for (auto& buffer : held) ASSERT_TRUE(vdo_stream_buffer_unref(stream, &buffer, &error));
}

TEST_F(VdoStreamTest, InfoDescribesTheStream) {
  use_vtest();
  g_autoptr(GError) error = nullptr;
  g_autoptr(VdoMap) settings = vdo_map_new();
  vdo_map_set_uint32(settings, "format", VDO_FORMAT_PLANAR_RGB);
  vdo_map_set_pair32u(settings, "resolution", VdoPair32u{.w = 256, .h = 192});
  vdo_map_set_uint32(settings, "buffer.count", 4);
  g_autoptr(VdoStream) stream = vdo_stream_new(settings, nullptr, &error);
  ASSERT_NE(stream, nullptr) << error->message;
  g_autoptr(VdoMap) info = vdo_stream_get_info(stream, &error);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(vdo_map_get_uint32(info, "format", 0), guint32(VDO_FORMAT_PLANAR_RGB));
  EXPECT_EQ(vdo_map_get_uint32(info, "width", 0), 256u);
  EXPECT_EQ(vdo_map_get_uint32(info, "height", 0), 192u);
  EXPECT_EQ(vdo_map_get_uint32(info, "pitch", 0), 256u);
  EXPECT_EQ(vdo_map_get_uint32(info, "buffer.count", 0), 4u);
  EXPECT_STREQ(vdo_map_get_string(info, "buffer.type", nullptr, ""), "memfd");
  const VdoPair32u ar = vdo_map_get_pair32u(info, "aspect_ratio", VdoPair32u{.w = 0, .h = 0});
  EXPECT_EQ(ar.w, 4u);
  EXPECT_EQ(ar.h, 3u);
  EXPECT_TRUE(vdo_stream_set_framerate(stream, 5.0, &error));
  g_autoptr(VdoMap) info2 = vdo_stream_get_info(stream, &error);
  EXPECT_DOUBLE_EQ(vdo_map_get_double(info2, "framerate", 0), 5.0);
  EXPECT_FALSE(vdo_stream_set_framerate(stream, -1.0, &error));
  EXPECT_VDO_ERROR(error, VDO_ERROR_INVALID_ARGUMENT);
}

TEST_F(VdoStreamTest, FdIsReadableExactlyWhileStarted) {
  use_vtest();
  g_autoptr(GError) error = nullptr;
  g_autoptr(VdoStream) stream = new_stream(VDO_FORMAT_YUV, 64, 48, 2, &error);
  ASSERT_NE(stream, nullptr);
  struct pollfd p = {vdo_stream_get_fd(stream, &error), POLLIN, 0};
  ASSERT_GE(p.fd, 0);
  EXPECT_EQ(poll(&p, 1, 0), 0);
  ASSERT_TRUE(vdo_stream_start(stream, &error));
  EXPECT_EQ(poll(&p, 1, 0), 1);
  VdoBuffer* buffer = vdo_stream_get_buffer(stream, &error);
  ASSERT_NE(buffer, nullptr);
  // Stop, return the buffer, start again: what the examples' flush does.
  vdo_stream_stop(stream);
  EXPECT_EQ(poll(&p, 1, 0), 0);
  EXPECT_EQ(vdo_stream_get_buffer(stream, &error), nullptr);
  EXPECT_VDO_ERROR(error, VDO_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  ASSERT_TRUE(vdo_stream_buffer_unref(stream, &buffer, &error));
  ASSERT_TRUE(vdo_stream_start(stream, &error));
  EXPECT_EQ(poll(&p, 1, 0), 1);
  buffer = vdo_stream_get_buffer(stream, &error);
  ASSERT_NE(buffer, nullptr);
  EXPECT_EQ(vdo_frame_get_sequence_nbr(buffer), 1u);
  ASSERT_TRUE(vdo_stream_buffer_unref(stream, &buffer, &error));
}

TEST_F(VdoStreamTest, ExplicitStrategyUsesTheAppsBuffers) {
  use_vtest();
  g_autoptr(GError) error = nullptr;
  g_autoptr(VdoMap) settings = vdo_map_new();
  vdo_map_set_uint32(settings, "format", VDO_FORMAT_YUV);
  vdo_map_set_uint32(settings, "width", 320);
  vdo_map_set_uint32(settings, "height", 240);
  vdo_map_set_uint32(settings, "buffer.strategy", VDO_BUFFER_STRATEGY_EXPLICIT);
  g_autoptr(VdoStream) stream = vdo_stream_new(settings, nullptr, &error);
  ASSERT_NE(stream, nullptr) << error->message;
  int tag = 0;
  VdoBuffer* mine[2] = {};
  for (auto& b : mine) {
    b = vdo_stream_buffer_alloc(stream, &tag, &error);
    ASSERT_NE(b, nullptr) << error->message;
    EXPECT_EQ(vdo_buffer_get_opaque(b), &tag);
    ASSERT_NE(vdo_buffer_get_data(b), nullptr);
    ASSERT_TRUE(vdo_stream_buffer_enqueue(stream, b, &error));
  }
  ASSERT_TRUE(vdo_stream_start(stream, &error));
  for (int k = 0; k < 5; ++k) {
    VdoBuffer* got = vdo_stream_get_buffer(stream, &error);
    ASSERT_NE(got, nullptr) << error->message;
    EXPECT_TRUE(got == mine[0] || got == mine[1]);
    EXPECT_EQ(vdo_frame_get_sequence_nbr(got), guint(k));
    ASSERT_TRUE(vdo_stream_buffer_enqueue(stream, got, &error));
    g_object_unref(got);  // the reference get_buffer gave; the buffer stays the app's
  }
  for (auto& b : mine) ASSERT_TRUE(vdo_stream_buffer_unref(stream, &b, &error));
  EXPECT_EQ(vdo_stream_get_buffer(stream, &error), nullptr);
  EXPECT_VDO_ERROR(error, VDO_ERROR_BUFFER_FAILURE);
}

TEST_F(VdoStreamTest, ChannelDescribesTheSource) {
  use_vtest();
  g_autoptr(GError) error = nullptr;
  g_autoptr(VdoMap) desc = vdo_map_new();
  vdo_map_set_uint32(desc, "input", 1);
  g_autoptr(VdoChannel) channel = vdo_channel_get_ex(desc, &error);
  ASSERT_NE(channel, nullptr) << error->message;
  g_autoptr(VdoMap) info = vdo_channel_get_info(channel, &error);
  EXPECT_EQ(vdo_map_get_uint32(info, "id", 0), 1u);
  EXPECT_EQ(vdo_map_get_uint32(info, "width", 0), 768u);
  EXPECT_EQ(vdo_map_get_uint32(info, "height", 0), 576u);
  EXPECT_EQ(vdo_map_get_uint32(info, "rotation", 9), 0u);

  g_autoptr(VdoMap) filter = vdo_map_new();
  vdo_map_set_uint32(filter, "format", VDO_FORMAT_RGB);
  vdo_map_set_string(filter, "select", "minmax");
  VdoResolutionSet* set = vdo_channel_get_resolutions(channel, filter, &error);
  ASSERT_NE(set, nullptr);
  ASSERT_EQ(set->count, 2u);
  EXPECT_LT(set->resolutions[0].width, set->resolutions[1].width);
  EXPECT_GE(set->resolutions[1].width, 768u);
  g_free(set);
  // aspect_ratio "native": only 4:3 sizes for the 768x576 video, its own among them.
  vdo_map_set_string(filter, "select", "all");
  vdo_map_set_string(filter, "aspect_ratio", "native");
  set = vdo_channel_get_resolutions(channel, filter, &error);
  ASSERT_NE(set, nullptr);
  EXPECT_GE(set->count, 2u);
  bool has_source_size = false;
  for (gsize i = 0; i < set->count; ++i) {
    EXPECT_EQ(set->resolutions[i].width * 3, set->resolutions[i].height * 4)
        << set->resolutions[i].width << "x" << set->resolutions[i].height;
    has_source_size |= set->resolutions[i].width == 768 && set->resolutions[i].height == 576;
  }
  EXPECT_TRUE(has_source_size);
  g_free(set);
  vdo_map_set_uint32(filter, "format", VDO_FORMAT_JPEG);
  set = vdo_channel_get_resolutions(channel, filter, &error);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->count, 0u);
  g_free(set);

  EXPECT_EQ(vdo_channel_get(2, &error), nullptr);
  EXPECT_VDO_ERROR(error, VDO_ERROR_NOT_FOUND);
}

}  // namespace
}  // namespace osprey::vdo_test
