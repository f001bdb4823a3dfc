#include "video_loop.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>

#include "core/error.h"
#include "media/rgb.h"
#include "media/video_reader.h"
#include "media/video_writer.h"

namespace osprey::cli {
namespace {

// "[#########.........]  312/795  14.2 fps" redrawn in place on stderr.
class ProgressBar {
 public:
  ProgressBar(bool enabled, int64_t total) : enabled_(enabled && isatty(STDERR_FILENO)), total_(total) {}
  ~ProgressBar() {
    if (drawn_) fmt::print(stderr, "\n");
  }

  void update(int64_t done, int64_t read, double seconds) {
    if (!enabled_) return;
    const double fps = seconds > 0 ? double(done) / seconds : 0;
    if (total_ > 0) {
      constexpr int kWidth = 30;
      const int filled = int(kWidth * std::min<int64_t>(read, total_) / total_);
      fmt::print(stderr, "\r[{}{}] {:>6}/{} frames  {:.1f} fps ", std::string(size_t(filled), '#'),
                 std::string(size_t(kWidth - filled), '.'), read, total_, fps);
    } else {
      fmt::print(stderr, "\r{} frames  {:.1f} fps ", read, fps);
    }
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  bool enabled_;
  int64_t total_;
  bool drawn_ = false;
};

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

}  // namespace

void VideoLoopOptions::add_to(CLI::App* cmd) {
  cmd->add_option("--every", every, "on video: process every Nth frame")->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-frames", max_frames, "on video: stop after N processed frames (0: all)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 40));
}

void add_image_or_video_input(CLI::App* cmd, std::string& path) {
  cmd->add_option("image", path, "image file (JPEG or PNG), video file, image folder or /dev/videoN")
      ->required();
}

bool is_video_input(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec) || std::filesystem::is_character_file(path, ec)) return true;
  if (path.rfind("/dev/video", 0) == 0) return true;
  const std::string ext = lower_extension(path);
  for (const char* video : {".avi", ".mp4", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv",
                            ".ogv", ".3gp", ".ts", ".y4m"})
    if (ext == video) return true;
  return false;
}

VideoLoop::VideoLoop(const VideoLoopOptions& options) : options_(options) {
  OSPREY_CHECK(options.every >= 1, "--every must be at least 1");
  media::ReadError code = media::ReadError::kNone;
  std::string error;
  reader_ = media::VideoReader::open(options.input, code, error);
  OSPREY_CHECK(reader_ != nullptr, "{}", error);
  if (!options.out.empty()) {
    // The annotated video plays at the rate the processed frames were taken.
    writer_ = media::VideoWriter::open(options.out, reader_->width(), reader_->height(),
                                       reader_->framerate() / options.every, error);
    OSPREY_CHECK(writer_ != nullptr, "{}", error);
  }
}

VideoLoop::~VideoLoop() = default;

VideoLoopStats VideoLoop::run(const FrameCallback& on_frame) {
  ProgressBar progress(options_.progress, reader_->frame_count());
  VideoLoopStats stats;
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::string error;
  media::VideoFrame frame;
  int64_t read = 0;
  while (options_.max_frames == 0 || stats.processed < options_.max_frames) {
    const media::ReadError code = reader_->next(frame, error);
    if (code == media::ReadError::kEnd) break;
    OSPREY_CHECK(code == media::ReadError::kNone, "{}", error);
    ++read;
    if (frame.index % options_.every != 0) continue;
    vision::Image rgb(frame.image.width, frame.image.height, 3);
    media::i420_to_rgb(frame.image, rgb.pixels.data());
    on_frame({frame.index, frame.timestamp_ms, rgb.width, rgb.height}, rgb);
    OSPREY_CHECK(rgb.channels == 3 && rgb.width == frame.image.width && rgb.height == frame.image.height,
                 "internal: a frame callback changed the frame's size or layout");
    if (writer_)
      OSPREY_CHECK(writer_->write_rgb(rgb.pixels.data(), rgb.width, rgb.height, error), "{}", error);
    ++stats.processed;
    progress.update(stats.processed, read, elapsed());
  }
  if (writer_) {
    OSPREY_CHECK(writer_->close(error), "{}", error);
    stats.codec = writer_->codec_name();
  }
  stats.seconds = elapsed();
  return stats;
}

}  // namespace osprey::cli
