// Writes chosen frames of a video as PNG files, so that the same pixels can
// be given to osprey and to the MediaPipe oracle (which takes images only).
//   osprey_video_frames VIDEO OUTDIR INDEX...   -> OUTDIR/frame_<INDEX>.png
// Decoding is libvdostream's (libavformat/libavcodec); one line on error.
#include <libyuv.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "core/error.h"
#include "vdo/frame_source.h"
#include "vision/image_io.h"

namespace {

osprey::vision::Image to_rgb(const osprey::vdo::I420Image& frame) {
  osprey::vision::Image rgb(frame.width, frame.height, 3);
  const int chroma_width = (frame.width + 1) / 2;
  // libyuv's "RAW" is R, G, B in memory, the order osprey's images use.
  libyuv::I420ToRAW(frame.y.data(), frame.width, frame.u.data(), chroma_width, frame.v.data(), chroma_width,
                    rgb.pixels.data(), static_cast<int>(rgb.stride()), frame.width, frame.height);
  return rgb;
}

void write_frames(const std::string& video, const std::string& out_dir, std::vector<long> wanted) {
  std::sort(wanted.begin(), wanted.end());
  osprey::vdo::SourceError code = osprey::vdo::SourceError::kNone;
  std::string error;
  auto source = osprey::vdo::FrameSource::open(video, code, error);
  OSPREY_CHECK(source, "{}", error);
  osprey::vdo::I420Image frame;
  long index = 0;
  for (long target : wanted) {
    for (; index <= target; ++index) {
      code = source->next(frame, error);
      OSPREY_CHECK(code != osprey::vdo::SourceError::kEnd, "{}: has {} frames, frame {} asked for", video,
                   index, target);
      OSPREY_CHECK(code == osprey::vdo::SourceError::kNone, "{}: frame {}: {}", video, index, error);
    }
    osprey::vision::write_png(out_dir + "/frame_" + std::to_string(target) + ".png", to_rgb(frame));
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    OSPREY_CHECK(argc >= 4, "usage: osprey_video_frames VIDEO OUTDIR INDEX...");
    std::vector<long> wanted;
    for (int i = 3; i < argc; ++i) {
      char* end = nullptr;
      const long n = std::strtol(argv[i], &end, 10);
      OSPREY_CHECK(*argv[i] != '\0' && *end == '\0' && n >= 0, "'{}' is not a frame index", argv[i]);
      wanted.push_back(n);
    }
    write_frames(argv[1], argv[2], wanted);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "osprey_video_frames: %s\n", e.what());
    return 1;
  }
  return 0;
}
