// The per-frame loop every video command shares: frames from a video file,
// an image folder or a V4L2 camera -> the command's callback (which may draw
// on the frame) -> an annotated video, with --every, --max-frames and a
// progress bar on a terminal. A command adds the options with
// VideoLoopOptions::add_to, opens a VideoLoop (so a bad source or output fails
// before any model loads), then runs it with its callback.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "media/video_reader.h"
#include "media/video_writer.h"
#include "vision/image.h"

namespace osprey::cli {

struct VideoLoopOptions {
  std::string input;       // video file, image folder or /dev/videoN
  std::string out;         // annotated video (.mp4, .mkv, .mov, .avi); empty: none
  int every = 1;           // process frames 0, N, 2N, ...
  int64_t max_frames = 0;  // stop after this many processed frames; 0: all
  bool progress = true;    // a progress bar when stderr is a terminal

  // Adds --every and --max-frames (input and --out belong to the command).
  void add_to(CLI::App* cmd);
};

struct FrameInfo {
  int64_t index = 0;        // in the source, counting skipped frames
  double timestamp_ms = 0;  // since the source's first frame
  int width = 0, height = 0;
};

// Called for each processed frame with the frame as RGB. Whatever it draws
// on `rgb` is what the annotated video shows.
using FrameCallback = std::function<void(const FrameInfo& info, vision::Image& rgb)>;

struct VideoLoopStats {
  int64_t processed = 0;
  double seconds = 0;  // wall time of the whole loop
  std::string codec;   // encoder of the annotated video, if any
};

class VideoLoop {
 public:
  // Opens the source and the output video; throws osprey::Error with one
  // line when either cannot be.
  explicit VideoLoop(const VideoLoopOptions& options);
  ~VideoLoop();

  // Runs on_frame on every processed frame and finishes the output video;
  // throws osprey::Error on a frame that fails to decode or encode.
  VideoLoopStats run(const FrameCallback& on_frame);

 private:
  VideoLoopOptions options_;
  std::unique_ptr<media::VideoReader> reader_;
  std::unique_ptr<media::VideoWriter> writer_;
};

// True for what VideoLoop reads rather than read_image: a folder, a
// device, or a file with a video extension.
bool is_video_input(const std::string& path);

// The commands' required positional "image": a JPEG or PNG file, or a video
// source VideoLoop opens (is_video_input tells which).
void add_image_or_video_input(CLI::App* cmd, std::string& path);

}  // namespace osprey::cli
