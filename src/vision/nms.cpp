// Non-maximum suppression after MediaPipe's NonMaxSuppressionCalculator.
#include "vision/nms.h"

#include <algorithm>

namespace osprey::vision {
namespace {

// Highest score first; stable so equal scores keep their anchor order, which
// makes the result independent of the sort implementation.
void sort_by_score(std::vector<Detection>& detections) {
  std::stable_sort(detections.begin(), detections.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
}

bool reached(const std::vector<Detection>& kept, int max_detections) {
  return max_detections >= 0 && kept.size() >= static_cast<size_t>(max_detections);
}

}  // namespace

std::vector<Detection> hard_nms(std::vector<Detection> detections, float iou_threshold, bool per_class,
                                int max_detections) {
  sort_by_score(detections);
  std::vector<Detection> kept;
  for (Detection& candidate : detections) {
    if (reached(kept, max_detections)) break;
    const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
      return (!per_class || k.class_id == candidate.class_id) && iou(k.box, candidate.box) > iou_threshold;
    });
    if (!suppressed) kept.push_back(std::move(candidate));
  }
  return kept;
}

std::vector<Detection> weighted_nms(std::vector<Detection> detections, float iou_threshold,
                                    int max_detections) {
  sort_by_score(detections);
  std::vector<Detection> kept;
  std::vector<Detection> remaining = std::move(detections);
  std::vector<Detection> rest;
  while (!remaining.empty() && !reached(kept, max_detections)) {
    const Detection& best = remaining.front();
    Detection merged = best;
    Box sum_box{};
    std::vector<Point> sum_keypoints(best.keypoints.size());
    float total_score = 0.0f;
    rest.clear();
    for (const Detection& d : remaining) {
      if (iou(d.box, best.box) <= iou_threshold) {
        rest.push_back(d);
        continue;
      }
      total_score += d.score;
      sum_box.xmin += d.box.xmin * d.score;
      sum_box.ymin += d.box.ymin * d.score;
      sum_box.xmax += d.box.xmax * d.score;
      sum_box.ymax += d.box.ymax * d.score;
      for (size_t k = 0; k < sum_keypoints.size() && k < d.keypoints.size(); ++k) {
        sum_keypoints[k].x += d.keypoints[k].x * d.score;
        sum_keypoints[k].y += d.keypoints[k].y * d.score;
      }
    }
    // An empty best box overlaps nothing, not even itself: keep it as is.
    if (total_score > 0.0f) {
      merged.box = {sum_box.xmin / total_score, sum_box.ymin / total_score, sum_box.xmax / total_score,
                    sum_box.ymax / total_score};
      for (size_t k = 0; k < sum_keypoints.size(); ++k) {
        merged.keypoints[k] = {sum_keypoints[k].x / total_score, sum_keypoints[k].y / total_score};
      }
    }
    kept.push_back(std::move(merged));
    // The best box always leaves `remaining`, so the loop terminates.
    if (rest.size() == remaining.size()) rest.erase(rest.begin());
    remaining.swap(rest);
  }
  return kept;
}

std::vector<Detection> non_max_suppression(std::vector<Detection> detections, const NmsOptions& options) {
  if (options.algorithm == NmsAlgorithm::kWeighted) {
    return weighted_nms(std::move(detections), options.iou_threshold, options.max_detections);
  }
  return hard_nms(std::move(detections), options.iou_threshold, options.per_class, options.max_detections);
}

}  // namespace osprey::vision
