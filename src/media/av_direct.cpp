// VideoReader::open and VideoWriter::open for programs linked with the
// libav code itself (libvdostream, the media tests).
#include "media/av_factories.h"

namespace osprey::media {

std::unique_ptr<VideoReader> VideoReader::open(const std::string& path, ReadError& code, std::string& error) {
  return open_av_reader(path, code, error);
}

std::unique_ptr<VideoWriter> VideoWriter::open(const std::string& path, int width, int height, double fps,
                                               std::string& error) {
  return open_av_writer(path, width, height, fps, error);
}

}  // namespace osprey::media
