// Decoded images for libvdostream: a video file, a folder of images (each
// decoded with libavformat/libavcodec) or a V4L2 camera (libavdevice), all
// delivered as I420 at the source's own size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace osprey::vdo {

struct I420Image {
  int width = 0, height = 0;
  std::vector<uint8_t> y, u, v;  // tightly packed planes; u, v are (w+1)/2 x (h+1)/2
};

// Why a source failed, mapped to a VDO error code by the caller.
enum class SourceError { kNone, kNotFound, kBadInput, kEnd };

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // Opens path: a directory is an image folder, /dev/video* a V4L2 camera,
  // anything else a video file. The first image is decoded to learn the size.
  static std::unique_ptr<FrameSource> open(const std::string& path, SourceError& code, std::string& error);

  // The next image; kEnd at the end of the video, kBadInput on a decode error.
  virtual SourceError next(I420Image& image, std::string& error) = 0;
  // Back to the first image (false for a camera, which cannot rewind).
  virtual bool rewind(std::string& error) = 0;

  int width() const { return width_; }
  int height() const { return height_; }
  double framerate() const { return framerate_; }
  const std::string& path() const { return path_; }

 protected:
  int width_ = 0, height_ = 0;
  double framerate_ = 30.0;
  std::string path_;
};

}  // namespace osprey::vdo
