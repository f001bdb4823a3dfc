// The module's entry points (av_factories.h).
#include "media/av_factories.h"

extern "C" {

__attribute__((visibility("default"))) osprey::media::VideoReader* osprey_media_av_open_reader(
    const std::string& path, osprey::media::ReadError& code, std::string& error) {
  return osprey::media::open_av_reader(path, code, error).release();
}

__attribute__((visibility("default"))) osprey::media::VideoWriter* osprey_media_av_open_writer(
    const std::string& path, int width, int height, double fps, std::string& error) {
  return osprey::media::open_av_writer(path, width, height, fps, error).release();
}
}
