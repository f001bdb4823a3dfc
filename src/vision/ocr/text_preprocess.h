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

// How the picture is scaled for the detector (PaddleOCR's DetResizeForTest
// limit_side_len / limit_type, and PaddleOCR 3's max_side_limit).
enum class LimitType {
  kMax,  // scale down so the longer side is at most `limit_side`; never up
  kMin,  // scale up so the shorter side is at least `limit_side`; never down
};

struct DetectorResize {
  int limit_side = 960;
  LimitType limit_type = LimitType::kMax;
  int max_side = 4000;  // after either rule, the longer side is scaled down to this
};

// The detector's input size: the picture scaled as `resize` says, each side
// rounded to a multiple of 32 (at least 32).
Size detector_input_size(int width, int height, const DetectorResize& resize);

// `rgb` resized to `resized` and written as [1,3,H,W] with width
// `tensor_width` (>= resized.width); the columns right of the picture are 0
// (after normalisation), as PaddleOCR pads text lines.
FloatTensor to_tensor(const Image& rgb, Size resized, int tensor_width, const ChannelNormalization& norm);

// A text line for the classifier or recogniser: height `height`, width
// ceil(height * aspect) capped at `tensor_width` (resized bilinearly as
// OpenCV does, without averaging when shrinking), padded to `tensor_width`.
FloatTensor line_tensor(const Image& rgb, int height, int tensor_width);

}  // namespace osprey::vision::ocr
