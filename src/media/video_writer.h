// Encodes RGB frames into a video file with libavcodec/libavformat. The
// codec follows the file's extension: .mp4 and .mov get H.264 (libx264, else
// libopenh264), .mkv H.264 when an encoder exists and MJPEG otherwise, .avi
// MJPEG. Errors come back as one-line messages, as from VideoReader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace osprey::media {

class VideoWriter {
 public:
  virtual ~VideoWriter() = default;
  // Frames must then be width x height; H.264 and MJPEG need even sizes, so
  // an odd last row or column is dropped. Returns nullptr with `error` set.
  static std::unique_ptr<VideoWriter> open(const std::string& path, int width, int height, double fps,
                                           std::string& error);

  // One frame of packed R,G,B bytes (3 * width per row), shown 1/fps seconds.
  virtual bool write_rgb(const uint8_t* rgb, int width, int height, std::string& error) = 0;
  // Drains the encoder and writes the file's trailer; frames written after
  // close are an error. The destructor closes quietly if close was not called.
  virtual bool close(std::string& error) = 0;

  // The encoder in use, e.g. "libx264" or "mjpeg".
  virtual std::string codec_name() const = 0;
  virtual int64_t frames_written() const = 0;
};

// The extensions open accepts, for help texts and error messages.
inline constexpr const char* kVideoOutputExtensions = ".mp4, .mkv, .mov, .avi";

}  // namespace osprey::media
