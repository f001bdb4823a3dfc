// Segmentation heads: a per-pixel foreground probability mapped back onto the
// original picture.
#pragma once

#include <vector>

#include "graph/tensor.h"
#include "vision/draw.h"
#include "vision/image.h"
#include "vision/preprocess.h"

namespace osprey::vision {

// Foreground probability per model-input pixel, row-major.
struct Mask {
  int width = 0;
  int height = 0;
  std::vector<float> values;
};

enum class MaskActivation { kNone, kSigmoid };

// Reads a [1, H, W, 1] float32 mask tensor (or [1, H, W, 2]: two-class
// softmax logits, foreground is channel 1).
Mask mask_from_tensor(const Tensor& tensor, MaskActivation activation);

// The mask over the original image: the letterbox border cut away and the
// rest resized (through libyuv) to image size, as 8-bit gray 0..255.
Image mask_to_image(const Mask& mask, const InputTransform& transform);

// 255 where probability >= threshold, else 0.
Image threshold_mask(const Image& mask, float threshold);

// The image with `color` blended in proportion to mask * alpha.
Image overlay_mask(const Image& image, const Image& mask, Color color, float alpha);

}  // namespace osprey::vision
