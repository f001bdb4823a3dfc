// VideoWriter: what it writes reads back (frame count, size, colours), in
// each container it offers; bad outputs are one-line errors.
#include <cmath>
#include <vector>

#include "media/rgb.h"
#include "media/video_reader.h"
#include "media/video_writer.h"
#include "media_test_env.h"

namespace osprey::media_test {
namespace {

using media::ReadError;
using media::VideoFrame;
using media::VideoReader;
using media::VideoWriter;

constexpr int kWidth = 96, kHeight = 64;

// A grey frame with a red square moving right by 4 pixels a frame.
std::vector<uint8_t> moving_square(int frame) {
  std::vector<uint8_t> rgb(size_t(kWidth) * kHeight * 3, 90);
  for (int y = 20; y < 44; ++y)
    for (int x = 4 * frame; x < 4 * frame + 24 && x < kWidth; ++x) {
      uint8_t* p = &rgb[(size_t(y) * kWidth + x) * 3];
      p[0] = 230, p[1] = 20, p[2] = 20;
    }
  return rgb;
}

void round_trip(const std::filesystem::path& path, const std::string& expected_codec) {
  std::string error;
  {
    auto writer = VideoWriter::open(path.string(), kWidth, kHeight, 10.0, error);
    ASSERT_NE(writer, nullptr) << error;
    EXPECT_EQ(writer->codec_name(), expected_codec);
    for (int i = 0; i < 12; ++i) {
      const auto rgb = moving_square(i);
      ASSERT_TRUE(writer->write_rgb(rgb.data(), kWidth, kHeight, error)) << error;
    }
    ASSERT_TRUE(writer->close(error)) << error;
    EXPECT_EQ(writer->frames_written(), 12);
  }
  ReadError code = ReadError::kNone;
  auto reader = VideoReader::open(path.string(), code, error);
  ASSERT_NE(reader, nullptr) << error;
  EXPECT_EQ(reader->width(), kWidth);
  EXPECT_EQ(reader->height(), kHeight);
  VideoFrame frame;
  int frames = 0;
  std::vector<uint8_t> rgb(size_t(kWidth) * kHeight * 3);
  while ((code = reader->next(frame, error)) == ReadError::kNone) {
    EXPECT_NEAR(frame.timestamp_ms, 100.0 * frames, 1.0);
    media::i420_to_rgb(frame.image, rgb.data());
    // The middle of the square is red, the far corner grey, within codec loss.
    const int cx = 4 * frames + 12;
    if (cx < kWidth) {
      const uint8_t* red = &rgb[(size_t(32) * kWidth + cx) * 3];
      EXPECT_GT(red[0], 180) << "frame " << frames;
      EXPECT_LT(red[1], 70) << "frame " << frames;
    }
    const uint8_t* grey = &rgb[(size_t(4) * kWidth + kWidth - 4) * 3];
    EXPECT_NEAR(grey[1], 90, 12) << "frame " << frames;
    ++frames;
  }
  EXPECT_EQ(code, ReadError::kEnd) << error;
  EXPECT_EQ(frames, 12);
}

TEST_F(MediaTest, Mp4IsH264) {
  round_trip(dir_ / "out.mp4", "libx264");
}
TEST_F(MediaTest, AviIsMjpeg) {
  round_trip(dir_ / "out.avi", "mjpeg");
}
TEST_F(MediaTest, MkvIsH264) {
  round_trip(dir_ / "out.mkv", "libx264");
}

TEST_F(MediaTest, OddSizesLoseTheLastRowAndColumn) {
  std::string error;
  auto writer = VideoWriter::open((dir_ / "odd.avi").string(), 33, 21, 5.0, error);
  ASSERT_NE(writer, nullptr) << error;
  std::vector<uint8_t> rgb(33 * 21 * 3, 128);
  ASSERT_TRUE(writer->write_rgb(rgb.data(), 33, 21, error)) << error;
  ASSERT_TRUE(writer->close(error)) << error;
  ReadError code = ReadError::kNone;
  auto reader = VideoReader::open((dir_ / "odd.avi").string(), code, error);
  ASSERT_NE(reader, nullptr) << error;
  EXPECT_EQ(reader->width(), 32);
  EXPECT_EQ(reader->height(), 20);
}

TEST_F(MediaTest, BadOutputsAreOneLineErrors) {
  std::string error;
  EXPECT_EQ(VideoWriter::open((dir_ / "out.gif").string(), 64, 64, 10, error), nullptr);
  EXPECT_NE(error.find(".gif"), std::string::npos) << error;
  EXPECT_EQ(VideoWriter::open((dir_ / "no/such/dir/out.avi").string(), 64, 64, 10, error), nullptr);
  EXPECT_NE(error.find("out.avi"), std::string::npos) << error;
  EXPECT_EQ(VideoWriter::open((dir_ / "zero.avi").string(), 0, 64, 10, error), nullptr);
  EXPECT_EQ(error.find('\n'), std::string::npos);

  auto writer = VideoWriter::open((dir_ / "sized.avi").string(), 64, 64, 10, error);
  ASSERT_NE(writer, nullptr) << error;
  std::vector<uint8_t> rgb(32 * 32 * 3);
  EXPECT_FALSE(writer->write_rgb(rgb.data(), 32, 32, error));
  EXPECT_NE(error.find("32x32"), std::string::npos) << error;
  ASSERT_TRUE(writer->close(error)) << error;
  EXPECT_FALSE(writer->write_rgb(rgb.data(), 64, 64, error));
}

}  // namespace
}  // namespace osprey::media_test
