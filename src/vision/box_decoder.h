// Raw SSD outputs (box regressions + class scores) to detections, like
// MediaPipe's TensorsToDetectionsCalculator.
#pragma once

#include <span>
#include <vector>

#include "vision/anchors.h"
#include "vision/detection.h"

namespace osprey::vision {

enum class ScoreActivation { kNone, kSigmoid, kSoftmax };

struct BoxDecoderOptions {
  int num_classes = 1;
  int num_boxes = 0;
  int num_coords = 4;
  int box_coord_offset = 0;
  int keypoint_coord_offset = 0;
  int num_keypoints = 0;
  int num_values_per_keypoint = 2;
  // x/y centre offsets are divided by x/y_scale and scaled by the anchor
  // size; sizes likewise by w/h_scale (or exp(size / scale) * anchor size).
  float x_scale = 1, y_scale = 1, w_scale = 1, h_scale = 1;
  bool apply_exponential_on_box_size = false;
  // false: each box is [y_center, x_center, h, w] (classic SSD, [ty,tx,th,tw]);
  // true: [x_center, y_center, w, h] and keypoints [x, y] (MediaPipe BlazeFace).
  bool reverse_output_order = false;
  ScoreActivation activation = ScoreActivation::kSigmoid;
  float score_clipping_thresh = 0;  // > 0: clamp logits to +-thresh before the sigmoid
  float min_score_thresh = 0.5f;
  std::vector<int> ignore_classes;  // e.g. 0 = background for the OID detector
};

// Decodes every anchor whose best (non-ignored) class scores at least
// min_score_thresh. raw_boxes is [num_boxes, num_coords], raw_scores is
// [num_boxes, num_classes]. Coordinates are normalised to the model input.
std::vector<Detection> decode_boxes(std::span<const float> raw_boxes, std::span<const float> raw_scores,
                                    std::span<const Anchor> anchors, const BoxDecoderOptions& options);

// Checks the options against themselves (keypoints fit in num_coords ...).
void validate(const BoxDecoderOptions& options);

}  // namespace osprey::vision
