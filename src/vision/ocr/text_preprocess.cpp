// Resizing and normalising pictures for the OCR models.
#include "vision/ocr/text_preprocess.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "vision/preprocess.h"

namespace osprey::vision::ocr {
namespace {

// Where output column (or row) `i` samples the source, as OpenCV's
// INTER_LINEAR resize does it: pixel centres aligned, clamped at the edges,
// no averaging when shrinking.
struct Tap {
  int first = 0, second = 0;
  float weight = 0;  // of `second`
};

std::vector<Tap> linear_taps(int source, int target) {
  std::vector<Tap> taps(static_cast<size_t>(target));
  const double scale = static_cast<double>(source) / target;
  for (int i = 0; i < target; ++i) {
    const double at = std::max((i + 0.5) * scale - 0.5, 0.0);
    const int first = std::min(static_cast<int>(at), source - 1);
    const int second = std::min(first + 1, source - 1);
    taps[static_cast<size_t>(i)] = {first, second, static_cast<float>(at - first)};
  }
  return taps;
}

Image resize_linear(const Image& image, int width, int height) {
  const std::vector<Tap> across = linear_taps(image.width, width), down = linear_taps(image.height, height);
  Image out(width, height, image.channels);
  const auto channels = static_cast<size_t>(image.channels);
  for (int y = 0; y < height; ++y) {
    const Tap& v = down[static_cast<size_t>(y)];
    for (int x = 0; x < width; ++x) {
      const Tap& h = across[static_cast<size_t>(x)];
      for (size_t c = 0; c < channels; ++c) {
        const auto mix = [&](int row) {
          const float a = image.at(h.first, row)[c], b = image.at(h.second, row)[c];
          return a + h.weight * (b - a);
        };
        const float top = mix(v.first), bottom = mix(v.second);
        out.at(x, y)[c] =
            static_cast<uint8_t>(std::clamp(std::lround(top + v.weight * (bottom - top)), 0L, 255L));
      }
    }
  }
  return out;
}

}  // namespace

Size detector_input_size(int width, int height, const DetectorResize& resize) {
  OSPREY_CHECK(width > 0 && height > 0 && resize.limit_side >= 32 && resize.max_side >= 32,
               "text detection: bad size {}x{} (limit {}, at most {})", width, height, resize.limit_side,
               resize.max_side);
  const int longer = std::max(width, height), shorter = std::min(width, height);
  double ratio = 1.0;
  if (resize.limit_type == LimitType::kMax && longer > resize.limit_side) {
    ratio = static_cast<double>(resize.limit_side) / longer;
  } else if (resize.limit_type == LimitType::kMin && shorter < resize.limit_side) {
    ratio = static_cast<double>(resize.limit_side) / shorter;
  }
  // An upscaled thin strip must not ask for a huge detector input.
  if (longer * ratio > resize.max_side) ratio = static_cast<double>(resize.max_side) / longer;
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
  // PaddleOCR's resize_norm_img: cv2.resize, bilinear.
  return to_tensor(resize_linear(rgb, width, height), {width, height}, tensor_width, kLineNormalization);
}

}  // namespace osprey::vision::ocr
