// SSD anchor boxes, generated like MediaPipe's SsdAnchorsCalculator.
#pragma once

#include <vector>

namespace osprey::vision {

// Centre and size, normalised to the model input ([0,1]).
struct Anchor {
  float x_center = 0, y_center = 0;
  float w = 0, h = 0;
};

struct SsdAnchorOptions {
  int input_width = 0, input_height = 0;
  int num_layers = 0;
  float min_scale = 0, max_scale = 0;
  std::vector<int> strides;  // one per layer
  std::vector<float> aspect_ratios;
  float anchor_offset_x = 0.5f, anchor_offset_y = 0.5f;
  bool reduce_boxes_in_lowest_layer = false;
  float interpolated_scale_aspect_ratio = 1.0f;
  bool fixed_anchor_size = false;
};

// Anchors in the order the model's outputs list them. Throws osprey::Error
// on inconsistent options.
std::vector<Anchor> generate_ssd_anchors(const SsdAnchorOptions& options);

}  // namespace osprey::vision
