// The video reader and writer on libavformat/libavcodec (video_reader.cpp,
// video_writer.cpp). They live in their own module, libosprey_media_av.so:
// libavformat, libavcodec and libavdevice bring in some 200 shared
// libraries, about 45 MiB of every process that links them, so `osprey`
// loads the module only when it opens a video (av_module.cpp), and programs
// that always need video link the module's code directly (av_direct.cpp).
#pragma once

#include <memory>
#include <string>

#include "media/video_reader.h"
#include "media/video_writer.h"

namespace osprey::media {

std::unique_ptr<VideoReader> open_av_reader(const std::string& path, ReadError& code, std::string& error);
std::unique_ptr<VideoWriter> open_av_writer(const std::string& path, int width, int height, double fps,
                                            std::string& error);

}  // namespace osprey::media

// What the module exports for av_module.cpp (C names, so dlsym finds them).
// Each returns a new object (null with `error` set), owned by the caller.
extern "C" {
osprey::media::VideoReader* osprey_media_av_open_reader(const std::string& path,
                                                        osprey::media::ReadError& code, std::string& error);
osprey::media::VideoWriter* osprey_media_av_open_writer(const std::string& path, int width, int height,
                                                        double fps, std::string& error);
}
