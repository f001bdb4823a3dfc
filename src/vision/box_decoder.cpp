// Box and keypoint decoding after MediaPipe's TensorsToDetectionsCalculator.
#include "vision/box_decoder.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "vision/scoring.h"

namespace osprey::vision {

void validate(const BoxDecoderOptions& o) {
  OSPREY_CHECK(o.num_boxes > 0 && o.num_classes > 0, "box decoder: num_boxes {} / num_classes {} invalid",
               o.num_boxes, o.num_classes);
  OSPREY_CHECK(o.num_values_per_keypoint >= 2, "box decoder: num_values_per_keypoint must be at least 2");
  OSPREY_CHECK(o.box_coord_offset >= 0 && o.box_coord_offset + 4 <= o.num_coords,
               "box decoder: box at offset {} does not fit in {} coords", o.box_coord_offset, o.num_coords);
  OSPREY_CHECK(o.num_keypoints == 0 ||
                   (o.keypoint_coord_offset >= 0 &&
                    o.keypoint_coord_offset + o.num_keypoints * o.num_values_per_keypoint <= o.num_coords),
               "box decoder: {} keypoints at offset {} do not fit in {} coords", o.num_keypoints,
               o.keypoint_coord_offset, o.num_coords);
  OSPREY_CHECK(o.x_scale != 0 && o.y_scale != 0 && o.w_scale != 0 && o.h_scale != 0,
               "box decoder: scales must be non-zero");
}

std::vector<Detection> decode_boxes(std::span<const float> raw_boxes, std::span<const float> raw_scores,
                                    std::span<const Anchor> anchors, const BoxDecoderOptions& o) {
  validate(o);
  const auto num_boxes = static_cast<size_t>(o.num_boxes);
  const auto num_coords = static_cast<size_t>(o.num_coords);
  const auto num_classes = static_cast<size_t>(o.num_classes);
  OSPREY_CHECK(anchors.size() == num_boxes, "box decoder: {} anchors for {} boxes", anchors.size(),
               num_boxes);
  OSPREY_CHECK(raw_boxes.size() == num_boxes * num_coords,
               "box decoder: box tensor has {} values, expected {}", raw_boxes.size(),
               num_boxes * num_coords);
  OSPREY_CHECK(raw_scores.size() == num_boxes * num_classes,
               "box decoder: score tensor has {} values, expected {}", raw_scores.size(),
               num_boxes * num_classes);

  std::vector<bool> allowed(num_classes, true);
  for (int c : o.ignore_classes) {
    if (c >= 0 && static_cast<size_t>(c) < num_classes) allowed[static_cast<size_t>(c)] = false;
  }
  std::vector<float> probabilities(num_classes);
  std::vector<Detection> detections;
  for (size_t i = 0; i < num_boxes; ++i) {
    // Best allowed class of this anchor.
    std::span<const float> logits = raw_scores.subspan(i * num_classes, num_classes);
    if (o.activation == ScoreActivation::kSoftmax) {
      softmax(logits, probabilities);
    } else {
      for (size_t c = 0; c < num_classes; ++c) {
        float v = logits[c];
        if (o.activation == ScoreActivation::kSigmoid) {
          if (o.score_clipping_thresh > 0)
            v = std::clamp(v, -o.score_clipping_thresh, o.score_clipping_thresh);
          v = sigmoid(v);
        }
        probabilities[c] = v;
      }
    }
    int best_class = -1;
    float best_score = -std::numeric_limits<float>::max();
    for (size_t c = 0; c < num_classes; ++c) {
      if (allowed[c] && probabilities[c] > best_score) {
        best_score = probabilities[c];
        best_class = static_cast<int>(c);
      }
    }
    // NaN scores fail this comparison too.
    if (best_class < 0 || !(best_score >= o.min_score_thresh)) continue;

    const float* raw = raw_boxes.data() + i * num_coords;
    const Anchor& anchor = anchors[i];
    const float* b = raw + o.box_coord_offset;
    float x_center = o.reverse_output_order ? b[0] : b[1];
    float y_center = o.reverse_output_order ? b[1] : b[0];
    float w = o.reverse_output_order ? b[2] : b[3];
    float h = o.reverse_output_order ? b[3] : b[2];
    x_center = x_center / o.x_scale * anchor.w + anchor.x_center;
    y_center = y_center / o.y_scale * anchor.h + anchor.y_center;
    if (o.apply_exponential_on_box_size) {
      w = std::exp(w / o.w_scale) * anchor.w;
      h = std::exp(h / o.h_scale) * anchor.h;
    } else {
      w = w / o.w_scale * anchor.w;
      h = h / o.h_scale * anchor.h;
    }
    // Negative or NaN sizes are model noise; MediaPipe drops them too.
    if (!(w >= 0.0f) || !(h >= 0.0f)) continue;

    Detection d;
    d.score = best_score;
    d.class_id = best_class;
    d.box = {x_center - w / 2.0f, y_center - h / 2.0f, x_center + w / 2.0f, y_center + h / 2.0f};
    d.keypoints.reserve(static_cast<size_t>(o.num_keypoints));
    for (int k = 0; k < o.num_keypoints; ++k) {
      const float* kp = raw + o.keypoint_coord_offset + k * o.num_values_per_keypoint;
      const float kx = o.reverse_output_order ? kp[0] : kp[1];
      const float ky = o.reverse_output_order ? kp[1] : kp[0];
      d.keypoints.push_back(
          {kx / o.x_scale * anchor.w + anchor.x_center, ky / o.y_scale * anchor.h + anchor.y_center});
    }
    detections.push_back(std::move(d));
  }
  return detections;
}

}  // namespace osprey::vision
