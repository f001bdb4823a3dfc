// Decoded frames from a video file, a folder of images (each decoded with
// libavformat/libavcodec) or a V4L2 camera (libavdevice), all delivered as
// I420 at the source's own size with their index and timestamp. Shared by
// the `osprey` video commands and libvdostream, so it reports errors as codes
// and messages rather than exceptions (libvdostream turns them into GErrors).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace osprey::media {

struct I420Image {
  int width = 0, height = 0;
  std::vector<uint8_t> y, u, v;  // tightly packed planes; u, v are (w+1)/2 x (h+1)/2
};

struct VideoFrame {
  int64_t index = 0;        // 0, 1, 2, ... in decoding order since open or rewind
  double timestamp_ms = 0;  // presentation time since the first frame
  I420Image image;
};

// Why a read failed; kNotFound and kBadInput come with a one-line message.
enum class ReadError { kNone, kNotFound, kBadInput, kEnd };

class VideoReader {
 public:
  virtual ~VideoReader() = default;
  // Opens path: a directory is an image folder, /dev/video* a V4L2 camera,
  // anything else a video file. The first frame is decoded to learn the size.
  static std::unique_ptr<VideoReader> open(const std::string& path, ReadError& code, std::string& error);

  // The next frame; kEnd at the end of the video, kBadInput on a decode error
  // or a file that ends before the frame count its header declares.
  virtual ReadError next(VideoFrame& frame, std::string& error) = 0;
  // Back to the first frame (false for a camera, which cannot rewind).
  virtual bool rewind(std::string& error) = 0;

  int width() const { return width_; }
  int height() const { return height_; }
  double framerate() const { return framerate_; }
  // Frames the header declares (images in a folder); 0 when unknown (a camera).
  int64_t frame_count() const { return frame_count_; }
  const std::string& path() const { return path_; }

 protected:
  int width_ = 0, height_ = 0;
  int64_t frame_count_ = 0;
  double framerate_ = 30.0;
  std::string path_;
};

}  // namespace osprey::media
