// Image construction, channel conversion and EXIF orientation.
#include "vision/image.h"

#include <cstring>
#include <utility>

#include "core/error.h"

namespace osprey::vision {

void check_image_size(int width, int height, int channels) {
  OSPREY_CHECK(channels == 1 || channels == 3 || channels == 4, "image: unsupported channel count {}",
               channels);
  OSPREY_CHECK(width > 0 && height > 0, "image: empty image ({}x{})", width, height);
  OSPREY_CHECK(width <= kMaxImageSide && height <= kMaxImageSide &&
                   static_cast<int64_t>(width) * height <= kMaxImagePixels,
               "image: {}x{} is larger than the {} megapixel limit", width, height, kMaxImagePixels >> 20);
}

Image::Image(int w, int h, int c) : width(w), height(h), channels(c) {
  check_image_size(w, h, c);
  pixels.assign(static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(c), 0);
}

Image to_rgb(const Image& image) {
  if (image.channels == 3) return image;
  Image out(image.width, image.height, 3);
  const size_t count = static_cast<size_t>(image.width) * static_cast<size_t>(image.height);
  const uint8_t* src = image.pixels.data();
  uint8_t* dst = out.pixels.data();
  for (size_t i = 0; i < count; ++i, dst += 3) {
    if (image.channels == 1) {
      dst[0] = dst[1] = dst[2] = src[i];
    } else {
      std::memcpy(dst, src + i * 4, 3);
    }
  }
  return out;
}

Image apply_orientation(const Image& image, int orientation) {
  if (orientation < 2 || orientation > 8) return image;
  // Orientations 5..8 swap the axes (the picture was stored rotated by 90).
  const bool transpose = orientation >= 5;
  Image out(transpose ? image.height : image.width, transpose ? image.width : image.height, image.channels);
  const int w = image.width;
  const int h = image.height;
  // Where the displayed pixel (x, y) is stored in the file.
  const auto source = [&](int x, int y) -> std::pair<int, int> {
    switch (orientation) {
      case 2: return {w - 1 - x, y};          // mirrored horizontally
      case 3: return {w - 1 - x, h - 1 - y};  // rotated 180
      case 4: return {x, h - 1 - y};          // mirrored vertically
      case 5: return {y, x};                  // transposed
      case 6: return {y, h - 1 - x};          // shown = stored turned 90 clockwise
      case 7: return {w - 1 - y, h - 1 - x};  // transversed
      case 8: return {w - 1 - y, x};          // shown = stored turned 90 counter-clockwise
      default: return {x, y};
    }
  };
  const auto pixel = static_cast<size_t>(image.channels);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      const auto [sx, sy] = source(x, y);
      std::memcpy(out.at(x, y), image.at(sx, sy), pixel);
    }
  }
  return out;
}

}  // namespace osprey::vision
