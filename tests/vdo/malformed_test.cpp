// Bad settings, bad sources and misbehaving clients get a clear GError, never
// a crash, hang or leak; image folders and the end of a video.
#include <dirent.h>

#include <chrono>
#include <cmath>
#include <fstream>

#include "vdo-channel.h"
#include "vdo-stream.h"
#include "vdo_test_env.h"

namespace osprey::vdo_test {
namespace {

int open_fd_count() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (readdir(d)) ++n;
  closedir(d);
  return n;
}

void write_ppm(const std::filesystem::path& path, int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  std::ofstream out(path, std::ios::binary);
  out << "P6\n" << w << " " << h << "\n255\n";
  for (int i = 0; i < w * h; ++i) out.put(char(r)).put(char(g)).put(char(b));
}

class VdoMalformedTest : public VdoEnvTest {
 protected:
  // vdo_stream_new with a few settings on top of a valid RGB 320x240 stream.
  void expect_rejected(void (*edit)(VdoMap*), int code) {
    g_autoptr(VdoMap) settings = vdo_map_new();
    vdo_map_set_uint32(settings, "format", VDO_FORMAT_RGB);
    vdo_map_set_uint32(settings, "width", 320);
    vdo_map_set_uint32(settings, "height", 240);
    edit(settings);
    g_autoptr(GError) error = nullptr;
    g_autoptr(VdoStream) stream = vdo_stream_new(settings, nullptr, &error);
    EXPECT_EQ(stream, nullptr);
    EXPECT_VDO_ERROR(error, code);
  }

  VdoStream* stream_of(VdoFormat format, guint32 w, guint32 h, guint32 buffers, GError** error) {
    g_autoptr(VdoMap) settings = vdo_map_new();
    vdo_map_set_uint32(settings, "format", format);
    vdo_map_set_uint32(settings, "width", w);
    vdo_map_set_uint32(settings, "height", h);
    vdo_map_set_uint32(settings, "buffer.count", buffers);
    return vdo_stream_new(settings, nullptr, error);
  }
};

TEST_F(VdoMalformedTest, BadSettingsAreRejected) {
  use_vtest();
  expect_rejected([](VdoMap* m) { vdo_map_set_uint32(m, "width", 0); }, VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_uint32(m, "height", 0); }, VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_uint32(m, "width", 100000); }, VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_uint32(m, "height", G_MAXUINT32); },
                  VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_pair32u(m, "resolution", VdoPair32u{.w = 0, .h = 9}); },
                  VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_uint32(m, "resolution", 640); }, VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_string(m, "width", "640"); }, VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_int32(m, "width", -640); }, VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_uint32(m, "format", VDO_FORMAT_JPEG); },
                  VDO_ERROR_NOT_SUPPORTED);
  expect_rejected([](VdoMap* m) { vdo_map_set_uint32(m, "format", 77); }, VDO_ERROR_NOT_SUPPORTED);
  expect_rejected([](VdoMap* m) { vdo_map_set_uint32(m, "format", G_MAXUINT32); }, VDO_ERROR_NOT_SUPPORTED);
  expect_rejected(
      [](VdoMap* m) {
        vdo_map_set_uint32(m, "format", VDO_FORMAT_YUV);
        vdo_map_set_uint32(m, "width", 321);
      },
      VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_uint32(m, "buffer.count", 0); }, VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_uint32(m, "buffer.count", 1000); }, VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_uint32(m, "buffer.strategy", 9); }, VDO_ERROR_NOT_SUPPORTED);
  expect_rejected([](VdoMap* m) { vdo_map_set_double(m, "framerate", -1); }, VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_double(m, "framerate", NAN); }, VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_string(m, "framerate", "fast"); }, VDO_ERROR_INVALID_ARGUMENT);
  expect_rejected([](VdoMap* m) { vdo_map_set_uint32(m, "channel", 5); }, VDO_ERROR_NOT_FOUND);

  g_autoptr(GError) error = nullptr;
  EXPECT_EQ(vdo_stream_new(nullptr, nullptr, &error), nullptr);
  EXPECT_VDO_ERROR(error, VDO_ERROR_INVALID_ARGUMENT);
}

TEST_F(VdoMalformedTest, MissingAndCorruptSourcesAreRejected) {
  const auto expect_source_error = [&](const std::string& source, int code) {
    if (source.empty())
      unsetenv("OSPREY_VDO_SOURCE");
    else
      setenv("OSPREY_VDO_SOURCE", source.c_str(), 1);
    g_autoptr(GError) error = nullptr;
    g_autoptr(VdoStream) stream = stream_of(VDO_FORMAT_YUV, 320, 240, 2, &error);
    EXPECT_EQ(stream, nullptr) << source;
    EXPECT_VDO_ERROR(error, code);
    g_clear_error(&error);
    g_autoptr(VdoChannel) channel = vdo_channel_get(1, &error);
    EXPECT_EQ(channel, nullptr) << source;
    EXPECT_VDO_ERROR(error, code);
  };
  expect_source_error("", VDO_ERROR_NOT_FOUND);
  expect_source_error((dir_ / "missing.avi").string(), VDO_ERROR_NOT_FOUND);

  std::ofstream((dir_ / "garbage.avi").string(), std::ios::binary)
      << std::string(4096, '\x5a') << "RIFF junk";
  expect_source_error((dir_ / "garbage.avi").string(), VDO_ERROR_IO);
  std::ofstream((dir_ / "empty.avi").string(), std::ios::binary);
  expect_source_error((dir_ / "empty.avi").string(), VDO_ERROR_IO);

  std::filesystem::create_directories(dir_ / "no-images");
  expect_source_error((dir_ / "no-images").string(), VDO_ERROR_IO);
  std::filesystem::create_directories(dir_ / "bad-images");
  std::ofstream((dir_ / "bad-images" / "a.jpg").string(), std::ios::binary) << "not a jpeg at all";
  expect_source_error((dir_ / "bad-images").string(), VDO_ERROR_IO);
}

TEST_F(VdoMalformedTest, TruncatedVideoEndsOrFailsCleanly) {
  use_vtest();
  std::ifstream in(vtest_, std::ios::binary);
  std::string head(200000, '\0');
  in.read(head.data(), std::streamsize(head.size()));
  std::ofstream((dir_ / "cut.avi").string(), std::ios::binary) << head;
  setenv("OSPREY_VDO_SOURCE", (dir_ / "cut.avi").c_str(), 1);
  setenv("OSPREY_VDO_LOOP", "0", 1);
  g_autoptr(GError) error = nullptr;
  g_autoptr(VdoStream) stream = stream_of(VDO_FORMAT_RGB, 160, 120, 2, &error);
  ASSERT_NE(stream, nullptr) << error->message;
  ASSERT_TRUE(vdo_stream_start(stream, &error));
  int frames = 0;
  for (; frames < 1000; ++frames) {
    VdoBuffer* buffer = vdo_stream_get_buffer(stream, &error);
    if (!buffer) break;
    ASSERT_TRUE(vdo_stream_buffer_unref(stream, &buffer, &error));
  }
  EXPECT_GT(frames, 0);
  EXPECT_LT(frames, 1000);
  ASSERT_NE(error, nullptr);
  EXPECT_TRUE(error->code == VDO_ERROR_CLOSED || error->code == VDO_ERROR_IO) << error->message;
}

TEST_F(VdoMalformedTest, BadConfigurationIsRejected) {
  use_vtest();
  const auto expect_config_error = [&]() {
    g_autoptr(GError) error = nullptr;
    g_autoptr(VdoStream) stream = stream_of(VDO_FORMAT_YUV, 320, 240, 2, &error);
    EXPECT_EQ(stream, nullptr);
    EXPECT_VDO_ERROR(error, VDO_ERROR_INVALID_ARGUMENT);
  };
  setenv("OSPREY_VDO_LOOP", "sometimes", 1);
  expect_config_error();
  unsetenv("OSPREY_VDO_LOOP");
  setenv("OSPREY_VDO_CONFIG", (dir_ / "absent.conf").c_str(), 1);
  expect_config_error();
  std::ofstream((dir_ / "bad.conf").string()) << "# comment\nsource = /x\ncolour = blue\n";
  setenv("OSPREY_VDO_CONFIG", (dir_ / "bad.conf").c_str(), 1);
  expect_config_error();
  std::ofstream((dir_ / "noeq.conf").string()) << "source /x\n";
  setenv("OSPREY_VDO_CONFIG", (dir_ / "noeq.conf").c_str(), 1);
  expect_config_error();

  // A good file in the default place names the source when the environment does not.
  unsetenv("OSPREY_VDO_CONFIG");
  unsetenv("OSPREY_VDO_SOURCE");
  std::filesystem::create_directories(dir_ / "osprey");
  std::ofstream((dir_ / "osprey" / "vdo.conf").string())
      << "source = " << vtest_ << "  # the video\nloop = 0\n";
  g_autoptr(GError) error = nullptr;
  g_autoptr(VdoStream) stream = stream_of(VDO_FORMAT_YUV, 320, 240, 2, &error);
  ASSERT_NE(stream, nullptr) << error->message;
}

TEST_F(VdoMalformedTest, AClientThatKeepsEveryBufferGetsAnErrorNotAHang) {
  use_vtest();
  const int fds_before = open_fd_count();
  {
    g_autoptr(GError) error = nullptr;
    g_autoptr(VdoStream) stream = stream_of(VDO_FORMAT_YUV, 320, 240, 2, &error);
    ASSERT_NE(stream, nullptr);
    ASSERT_TRUE(vdo_stream_start(stream, &error));
    VdoBuffer* first = vdo_stream_get_buffer(stream, &error);
    VdoBuffer* second = vdo_stream_get_buffer(stream, &error);
    ASSERT_TRUE(first && second);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(vdo_stream_get_buffer(stream, &error), nullptr);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EXPECT_VDO_ERROR(error, VDO_ERROR_BUFFER_FAILURE);
    EXPECT_NE(strstr(error->message, "vdo_stream_buffer_unref"), nullptr) << error->message;
    EXPECT_FALSE(vdo_error_is_expected(&error));
    g_clear_error(&error);

    // Returning one makes the next frame possible again.
    ASSERT_TRUE(vdo_stream_buffer_unref(stream, &first, &error));
    VdoBuffer* third = vdo_stream_get_buffer(stream, &error);
    ASSERT_NE(third, nullptr);
    // g_object_unref only drops the app's reference: the buffer is still out.
    g_object_unref(third);
    g_object_unref(second);
    EXPECT_EQ(vdo_stream_get_buffer(stream, &error), nullptr);
    EXPECT_VDO_ERROR(error, VDO_ERROR_BUFFER_FAILURE);
    g_clear_error(&error);

    // Returning a buffer twice, a NULL and a foreign buffer are errors.
    EXPECT_FALSE(vdo_stream_buffer_unref(stream, &first, &error));
    EXPECT_VDO_ERROR(error, VDO_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    EXPECT_FALSE(vdo_stream_buffer_unref(stream, nullptr, &error));
    EXPECT_VDO_ERROR(error, VDO_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_autoptr(VdoStream) other = stream_of(VDO_FORMAT_YUV, 320, 240, 1, &error);
    ASSERT_TRUE(vdo_stream_start(other, &error));
    VdoBuffer* foreign = vdo_stream_get_buffer(other, &error);
    EXPECT_FALSE(vdo_stream_buffer_unref(stream, &foreign, &error));
    EXPECT_VDO_ERROR(error, VDO_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(foreign, nullptr);
    g_clear_error(&error);
    EXPECT_FALSE(vdo_stream_buffer_enqueue(stream, foreign, &error));
    EXPECT_VDO_ERROR(error, VDO_ERROR_INVALID_ARGUMENT);
    ASSERT_TRUE(vdo_stream_buffer_unref(other, &foreign, nullptr));
  }
  // Streams gone, every buffer (its memfd) and the poll fd are closed.
  EXPECT_EQ(open_fd_count(), fds_before);
}

TEST_F(VdoMalformedTest, ImageFolderEndsWithAnExpectedErrorOrLoops) {
  const uint8_t colours[3][3] = {{200, 30, 30}, {30, 200, 30}, {30, 30, 200}};
  for (int i = 0; i < 3; ++i)
    write_ppm(dir_ / ("frame" + std::to_string(i) + ".ppm"), 64, 48, colours[i][0], colours[i][1],
              colours[i][2]);
  std::ofstream((dir_ / "notes.txt").string()) << "ignored";
  setenv("OSPREY_VDO_SOURCE", dir_.c_str(), 1);
  for (const bool loop : {false, true}) {
    setenv("OSPREY_VDO_LOOP", loop ? "1" : "0", 1);
    g_autoptr(GError) error = nullptr;
    g_autoptr(VdoStream) stream = stream_of(VDO_FORMAT_RGB, 64, 48, 2, &error);
    ASSERT_NE(stream, nullptr) << error->message;
    ASSERT_TRUE(vdo_stream_start(stream, &error));
    for (int k = 0; k < 4; ++k) {
      VdoBuffer* buffer = vdo_stream_get_buffer(stream, &error);
      if (k == 3 && !loop) {
        EXPECT_EQ(buffer, nullptr);
        EXPECT_VDO_ERROR(error, VDO_ERROR_CLOSED);
        EXPECT_TRUE(vdo_error_is_expected(&error));
        g_clear_error(&error);
        EXPECT_EQ(vdo_stream_get_buffer(stream, &error), nullptr);  // stays ended
        EXPECT_VDO_ERROR(error, VDO_ERROR_CLOSED);
        break;
      }
      ASSERT_NE(buffer, nullptr) << error->message;
      const auto* px = static_cast<uint8_t*>(vdo_buffer_get_data(buffer));
      for (int c = 0; c < 3; ++c)
        EXPECT_NEAR(px[(24 * 64 + 32) * 3 + c], colours[k % 3][c], 4) << "frame " << k << " channel " << c;
      ASSERT_TRUE(vdo_stream_buffer_unref(stream, &buffer, &error));
    }
  }
}

TEST_F(VdoMalformedTest, RealtimePacesDeliveryAtTheFramerate) {
  use_vtest();
  setenv("OSPREY_VDO_REALTIME", "1", 1);
  g_autoptr(GError) error = nullptr;
  g_autoptr(VdoStream) stream = stream_of(VDO_FORMAT_YUV, 64, 48, 1, &error);
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(vdo_stream_set_framerate(stream, 20.0, &error));
  ASSERT_TRUE(vdo_stream_start(stream, &error));
  const auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < 4; ++k) {
    VdoBuffer* buffer = vdo_stream_get_buffer(stream, &error);
    ASSERT_NE(buffer, nullptr);
    ASSERT_TRUE(vdo_stream_buffer_unref(stream, &buffer, &error));
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(140));
}

}  // namespace
}  // namespace osprey::vdo_test
