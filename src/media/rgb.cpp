#include "media/rgb.h"

#include <libyuv.h>

namespace osprey::media {

void i420_to_rgb(const I420Image& image, uint8_t* rgb) {
  const int chroma_stride = (image.width + 1) / 2;
  // libyuv's "RAW" is R,G,B in memory order (its "RGB24" is B,G,R).
  libyuv::I420ToRAW(image.y.data(), image.width, image.u.data(), chroma_stride, image.v.data(), chroma_stride,
                    rgb, 3 * image.width, image.width, image.height);
}

}  // namespace osprey::media
