// Follows MediaPipe's SsdAnchorsCalculator: consecutive layers with the same
// stride share one feature map, and their anchors interleave per cell.
#include "vision/anchors.h"

#include <cmath>

#include "core/error.h"

namespace osprey::vision {
namespace {

float layer_scale(float min_scale, float max_scale, int index, int count) {
  if (count == 1) return (min_scale + max_scale) * 0.5f;
  return min_scale + (max_scale - min_scale) * static_cast<float>(index) / (static_cast<float>(count) - 1.0f);
}

}  // namespace

std::vector<Anchor> generate_ssd_anchors(const SsdAnchorOptions& o) {
  OSPREY_CHECK(o.num_layers > 0 && static_cast<size_t>(o.num_layers) == o.strides.size(),
               "anchors: num_layers {} does not match {} strides", o.num_layers, o.strides.size());
  OSPREY_CHECK(o.input_width > 0 && o.input_height > 0, "anchors: input size {}x{} is invalid", o.input_width,
               o.input_height);
  for (int stride : o.strides) OSPREY_CHECK(stride > 0, "anchors: stride {} is invalid", stride);
  for (float ratio : o.aspect_ratios) OSPREY_CHECK(ratio > 0, "anchors: aspect ratio {} is invalid", ratio);

  const int num_strides = static_cast<int>(o.strides.size());
  std::vector<Anchor> anchors;
  int layer = 0;
  while (layer < o.num_layers) {
    std::vector<float> ratios;
    std::vector<float> scales;
    int last = layer;
    for (;
         last < num_strides && o.strides[static_cast<size_t>(last)] == o.strides[static_cast<size_t>(layer)];
         ++last) {
      const float scale = layer_scale(o.min_scale, o.max_scale, last, num_strides);
      if (last == 0 && o.reduce_boxes_in_lowest_layer) {
        // The classic SSD lowest layer: a small box plus two wide/tall ones.
        ratios.insert(ratios.end(), {1.0f, 2.0f, 0.5f});
        scales.insert(scales.end(), {0.1f, scale, scale});
        continue;
      }
      for (float ratio : o.aspect_ratios) {
        ratios.push_back(ratio);
        scales.push_back(scale);
      }
      if (o.interpolated_scale_aspect_ratio > 0.0f) {
        const float next =
            last == num_strides - 1 ? 1.0f : layer_scale(o.min_scale, o.max_scale, last + 1, num_strides);
        scales.push_back(std::sqrt(scale * next));
        ratios.push_back(o.interpolated_scale_aspect_ratio);
      }
    }

    const int stride = o.strides[static_cast<size_t>(layer)];
    const int map_h =
        static_cast<int>(std::ceil(static_cast<float>(o.input_height) / static_cast<float>(stride)));
    const int map_w =
        static_cast<int>(std::ceil(static_cast<float>(o.input_width) / static_cast<float>(stride)));
    for (int y = 0; y < map_h; ++y) {
      for (int x = 0; x < map_w; ++x) {
        for (size_t i = 0; i < ratios.size(); ++i) {
          Anchor a;
          a.x_center = (static_cast<float>(x) + o.anchor_offset_x) / static_cast<float>(map_w);
          a.y_center = (static_cast<float>(y) + o.anchor_offset_y) / static_cast<float>(map_h);
          if (o.fixed_anchor_size) {
            a.w = 1.0f;
            a.h = 1.0f;
          } else {
            const float ratio_sqrt = std::sqrt(ratios[i]);
            a.w = scales[i] * ratio_sqrt;
            a.h = scales[i] / ratio_sqrt;
          }
          anchors.push_back(a);
        }
      }
    }
    layer = last;
  }
  return anchors;
}

}  // namespace osprey::vision
