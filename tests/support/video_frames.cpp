// Writes chosen frames of a video as PNG files, so that the same pixels can
// be given to osprey and to the MediaPipe oracle (which takes images only).
//   osprey_video_frames VIDEO OUTDIR INDEX...   -> OUTDIR/frame_<INDEX>.png
// Decoding is src/media's VideoReader (libavformat/libavcodec), the one
// libvdostream and the osprey video commands use; one line on error.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "core/error.h"
#include "media/rgb.h"
#include "media/video_reader.h"
#include "vision/image_io.h"

namespace {

osprey::vision::Image to_rgb(const osprey::media::I420Image& frame) {
  osprey::vision::Image rgb(frame.width, frame.height, 3);
  osprey::media::i420_to_rgb(frame, rgb.pixels.data());
  return rgb;
}

void write_frames(const std::string& video, const std::string& out_dir, std::vector<long> wanted) {
  std::sort(wanted.begin(), wanted.end());
  osprey::media::ReadError code = osprey::media::ReadError::kNone;
  std::string error;
  auto source = osprey::media::VideoReader::open(video, code, error);
  OSPREY_CHECK(source, "{}", error);
  osprey::media::VideoFrame frame;
  long index = 0;
  for (long target : wanted) {
    for (; index <= target; ++index) {
      code = source->next(frame, error);
      OSPREY_CHECK(code != osprey::media::ReadError::kEnd, "{}: has {} frames, frame {} asked for", video,
                   index, target);
      OSPREY_CHECK(code == osprey::media::ReadError::kNone, "{}: frame {}: {}", video, index, error);
    }
    osprey::vision::write_png(out_dir + "/frame_" + std::to_string(target) + ".png", to_rgb(frame.image));
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
