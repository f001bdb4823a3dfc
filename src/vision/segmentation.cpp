// Segmentation mask post-processing.
#include "vision/segmentation.h"

#include <libyuv.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "vision/scoring.h"

namespace osprey::vision {

Mask mask_from_tensor(const Tensor& tensor, MaskActivation activation) {
  OSPREY_CHECK(tensor.type == DType::kFloat32, "segmentation output '{}' is {}, expected float32",
               tensor.name, dtype_name(tensor.type));
  OSPREY_CHECK(tensor.rank() == 4 && tensor.dim(0) == 1 && tensor.dim(1) > 0 && tensor.dim(2) > 0 &&
                   (tensor.dim(3) == 1 || tensor.dim(3) == 2),
               "segmentation output '{}' has shape {}, expected [1, H, W, 1 or 2]", tensor.name,
               shape_str(tensor.shape));
  OSPREY_CHECK(tensor.data != nullptr, "segmentation output '{}' has no data", tensor.name);
  Mask mask;
  mask.height = tensor.dim(1);
  mask.width = tensor.dim(2);
  const auto count = static_cast<size_t>(mask.width) * static_cast<size_t>(mask.height);
  const float* data = tensor.data_as<float>();
  mask.values.resize(count);
  if (tensor.dim(3) == 2) {
    for (size_t i = 0; i < count; ++i) {
      float p[2];
      softmax(std::span<const float>(data + 2 * i, 2), p);
      mask.values[i] = p[1];
    }
    return mask;
  }
  for (size_t i = 0; i < count; ++i) {
    mask.values[i] = activation == MaskActivation::kSigmoid ? sigmoid(data[i]) : data[i];
  }
  return mask;
}

Image mask_to_image(const Mask& mask, const InputTransform& t) {
  OSPREY_CHECK(mask.width == t.input_width && mask.height == t.input_height,
               "mask is {}x{} but the model input is {}x{}", mask.width, mask.height, t.input_width,
               t.input_height);
  Image plane(mask.width, mask.height, 1);
  for (size_t i = 0; i < mask.values.size(); ++i) {
    const float v = std::isnan(mask.values[i]) ? 0.0f : std::clamp(mask.values[i], 0.0f, 1.0f);
    plane.pixels[i] = static_cast<uint8_t>(std::lround(v * 255.0f));
  }
  Image out(t.image_width, t.image_height, 1);
  // Only the content rectangle holds the picture; the border is padding.
  const uint8_t* content = plane.at(t.pad_x, t.pad_y);
  libyuv::ScalePlane(content, mask.width, t.content_width, t.content_height, out.pixels.data(), out.width,
                     out.width, out.height, libyuv::kFilterBilinear);
  return out;
}

Image threshold_mask(const Image& mask, float threshold) {
  OSPREY_CHECK(mask.channels == 1, "mask must have one channel, got {}", mask.channels);
  Image out = mask;
  const float cut = threshold * 255.0f;
  for (uint8_t& v : out.pixels) v = static_cast<float>(v) >= cut ? 255 : 0;
  return out;
}

Image overlay_mask(const Image& image, const Image& mask, Color color, float alpha) {
  OSPREY_CHECK(mask.channels == 1 && mask.width == image.width && mask.height == image.height,
               "mask ({}x{}x{}) does not match the {}x{} image", mask.width, mask.height, mask.channels,
               image.width, image.height);
  Image out = to_rgb(image);
  const uint8_t tint[3] = {color.r, color.g, color.b};
  for (size_t i = 0; i < mask.pixels.size(); ++i) {
    const float a = alpha * static_cast<float>(mask.pixels[i]) / 255.0f;
    uint8_t* p = out.pixels.data() + i * 3;
    for (int c = 0; c < 3; ++c) {
      p[c] = static_cast<uint8_t>(
          std::lround(static_cast<float>(p[c]) * (1.0f - a) + static_cast<float>(tint[c]) * a));
    }
  }
  return out;
}

}  // namespace osprey::vision
