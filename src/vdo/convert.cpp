#include "vdo/convert.h"

#include <libyuv.h>

namespace osprey::vdo {

size_t image_bytes(VdoFormat format, unsigned width, unsigned height) {
  const size_t w = width, h = height;
  switch (format) {
    case VDO_FORMAT_YUV: return w * h + 2 * ((w + 1) / 2) * ((h + 1) / 2);
    case VDO_FORMAT_RGB:
    case VDO_FORMAT_PLANAR_RGB: return 3 * w * h;
    default: return 0;
  }
}

unsigned image_pitch(VdoFormat format, unsigned width) {
  return format == VDO_FORMAT_RGB ? 3 * width : width;
}

bool is_served_format(guint32 format) {
  return format == guint32(VDO_FORMAT_YUV) || format == guint32(VDO_FORMAT_RGB) ||
         format == guint32(VDO_FORMAT_PLANAR_RGB);
}

void convert_image(const media::I420Image& src, VdoFormat format, unsigned width, unsigned height,
                   uint8_t* dst, std::vector<uint8_t>& scratch) {
  const int w = int(width), h = int(height), cw = (w + 1) / 2, ch = (h + 1) / 2;
  const int scw = (src.width + 1) / 2;
  // Scale to the stream's size first (a plain copy at the same size), in I420;
  // box filtering averages whole areas when shrinking, as a camera's scaler does.
  scratch.resize(size_t(w) * h + 2 * size_t(cw) * ch +
                 (format == VDO_FORMAT_PLANAR_RGB ? 3 * size_t(w) * h : 0));
  uint8_t* y = scratch.data();
  uint8_t* u = y + size_t(w) * h;
  uint8_t* v = u + size_t(cw) * ch;
  libyuv::I420Scale(src.y.data(), src.width, src.u.data(), scw, src.v.data(), scw, src.width, src.height, y,
                    w, u, cw, v, cw, w, h, libyuv::kFilterBox);
  switch (format) {
    case VDO_FORMAT_YUV:
      libyuv::I420ToNV12(y, w, u, cw, v, cw, dst, w, dst + size_t(w) * h, 2 * cw, w, h);
      break;
    case VDO_FORMAT_RGB:
      // libyuv's "RAW" is R, G, B in memory order (its "RGB24" is B, G, R).
      libyuv::I420ToRAW(y, w, u, cw, v, cw, dst, 3 * w, w, h);
      break;
    case VDO_FORMAT_PLANAR_RGB: {
      uint8_t* rgb = v + size_t(cw) * ch;
      libyuv::I420ToRAW(y, w, u, cw, v, cw, rgb, 3 * w, w, h);
      const size_t plane = size_t(w) * h;
      libyuv::SplitRGBPlane(rgb, 3 * w, dst, w, dst + plane, w, dst + 2 * plane, w, w, h);
      break;
    }
    default: break;
  }
}

}  // namespace osprey::vdo
