// Resizing and normalising pictures for the OCR models.
#include "vision/ocr/text_preprocess.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "vision/preprocess.h"

namespace osprey::vision::ocr {

Size detector_input_size(int width, int height, int limit_side) {
  OSPREY_CHECK(width > 0 && height > 0 && limit_side >= 32, "text detection: bad size {}x{} (limit {})",
               width, height, limit_side);
  const int longer = std::max(width, height);
  const double ratio = longer > limit_side ? static_cast<double>(limit_side) / longer : 1.0;
  // nearbyint rounds halves to even, like Python's round in PaddleOCR.
  const auto round32 = [ratio](int side) {
    const int scaled = static_cast<int>(side * ratio);
    return std::max(static_cast<int>(std::nearbyint(scaled / 32.0)) * 32, 32);
  };
  return {round32(width), round32(height)};
}

FloatTensor to_tensor(const Image& rgb, Size resized, int tensor_width, const ChannelNormalization& norm) {
  OSPREY_CHECK(rgb.channels == 3, "OCR: need an RGB picture, got {} channels", rgb.channels);
  OSPREY_CHECK(resized.width > 0 && resized.height > 0 && tensor_width >= resized.width,
               "OCR: cannot fit {}x{} into a width of {}", resized.width, resized.height, tensor_width);
  const Image scaled = (resized.width == rgb.width && resized.height == rgb.height)
                           ? rgb
                           : resize_image(rgb, resized.width, resized.height);
  const auto plane = static_cast<size_t>(resized.height) * static_cast<size_t>(tensor_width);
  FloatTensor tensor{{1, 3, resized.height, tensor_width}, std::vector<float>(3 * plane, 0.0f)};
  for (size_t c = 0; c < 3; ++c) {
    const size_t source_channel = 2 - c;  // B, G, R from R, G, B
    float* out = tensor.values.data() + c * plane;
    for (int y = 0; y < resized.height; ++y) {
      const uint8_t* row = scaled.row(y);
      for (int x = 0; x < resized.width; ++x) {
        const float v = static_cast<float>(row[static_cast<size_t>(x) * 3 + source_channel]) / 255.0f;
        out[static_cast<size_t>(y) * static_cast<size_t>(tensor_width) + static_cast<size_t>(x)] =
            (v - norm.mean[c]) / norm.stddev[c];
      }
    }
  }
  return tensor;
}

FloatTensor line_tensor(const Image& rgb, int height, int tensor_width) {
  OSPREY_CHECK(!rgb.empty(), "OCR: empty text line");
  const double aspect = static_cast<double>(rgb.width) / rgb.height;
  const double wanted = std::ceil(height * aspect);
  const int width = wanted > tensor_width ? tensor_width : std::max(1, static_cast<int>(wanted));
  return to_tensor(rgb, {width, height}, tensor_width, kLineNormalization);
}

}  // namespace osprey::vision::ocr
