// Decoded 8-bit images as the vision code passes them around.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace osprey::vision {

// Interleaved 8-bit pixels, rows top to bottom, no padding between rows.
// channels: 1 = gray, 3 = R,G,B, 4 = R,G,B,A (bytes in that order in memory).
struct Image {
  int width = 0, height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;

  Image() = default;
  // Zero-filled image; throws osprey::Error on a bad size or channel count.
  Image(int width, int height, int channels);

  bool empty() const { return width == 0 || height == 0; }
  std::size_t stride() const { return static_cast<std::size_t>(width) * static_cast<std::size_t>(channels); }
  uint8_t* row(int y) { return pixels.data() + static_cast<std::size_t>(y) * stride(); }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<std::size_t>(y) * stride(); }
  uint8_t* at(int x, int y) {
    return row(y) + static_cast<std::size_t>(x) * static_cast<std::size_t>(channels);
  }
  const uint8_t* at(int x, int y) const {
    return row(y) + static_cast<std::size_t>(x) * static_cast<std::size_t>(channels);
  }
};

// Largest image the decoders accept (width * height); bigger files are
// rejected before any pixel memory is allocated.
inline constexpr int64_t kMaxImagePixels = 64LL * 1024 * 1024;
inline constexpr int kMaxImageSide = 32768;

// Throws osprey::Error when width x height x channels is not a sane image.
void check_image_size(int width, int height, int channels);

// The same picture with 3 channels (gray replicated, alpha dropped).
Image to_rgb(const Image& image);

// EXIF orientation values 1..8 (TIFF tag 0x0112); 1 means "as stored".
// Returns the image as it should be displayed.
Image apply_orientation(const Image& image, int orientation);

}  // namespace osprey::vision
