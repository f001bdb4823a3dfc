// Pictures to the OCR models' NCHW float inputs, as PaddleOCR prepares them:
// channels in B,G,R order (it reads images with OpenCV), scaled to [0,1],
// then normalised per channel.
#pragma once

#include <array>

#include "vision/image.h"
#include "vision/ocr/text_models.h"

namespace osprey::vision::ocr {

struct ChannelNormalization {
  std::array<float, 3> mean;  // B, G, R
  std::array<float, 3> stddev;
};

// Detector: ImageNet statistics (DetResizeForTest + NormalizeImage).
inline constexpr ChannelNormalization kDetectorNormalization{{0.485f, 0.456f, 0.406f},
                                                             {0.229f, 0.224f, 0.225f}};
// Classifier and recogniser: (x - 0.5) / 0.5, i.e. [-1, 1].
inline constexpr ChannelNormalization kLineNormalization{{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};

struct Size {
  int width = 0, height = 0;
};

// The detector's input size: the picture scaled down so its longer side is
// at most `limit_side` (never up), each side rounded to a multiple of 32
// (at least 32).
Size detector_input_size(int width, int height, int limit_side);

// `rgb` resized to `resized` and written as [1,3,H,W] with width
// `tensor_width` (>= resized.width); the columns right of the picture are 0
// (after normalisation), as PaddleOCR pads text lines.
FloatTensor to_tensor(const Image& rgb, Size resized, int tensor_width, const ChannelNormalization& norm);

// A text line for the classifier or recogniser: height `height`, width
// ceil(height * aspect) capped at `tensor_width`, padded to `tensor_width`.
FloatTensor line_tensor(const Image& rgb, int height, int tensor_width);

}  // namespace osprey::vision::ocr
