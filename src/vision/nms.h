// Non-maximum suppression: classic hard NMS and MediaPipe's weighted NMS.
#pragma once

#include <vector>

#include "vision/detection.h"

namespace osprey::vision {

enum class NmsAlgorithm { kHard, kWeighted };

struct NmsOptions {
  NmsAlgorithm algorithm = NmsAlgorithm::kHard;
  // Boxes overlapping a kept box with IoU above this are suppressed (hard) or
  // merged into it (weighted).
  float iou_threshold = 0.3f;
  // Hard NMS only: suppress only within the same class.
  bool per_class = false;
  int max_detections = -1;  // -1: no limit
};

// Keeps the best box of every overlapping group, highest score first.
std::vector<Detection> hard_nms(std::vector<Detection> detections, float iou_threshold, bool per_class,
                                int max_detections = -1);

// MediaPipe's WEIGHTED algorithm: take the best remaining detection, gather
// every remaining one with IoU > threshold (itself included), and emit the
// score-weighted average of their boxes and keypoints with the best score.
std::vector<Detection> weighted_nms(std::vector<Detection> detections, float iou_threshold,
                                    int max_detections = -1);

std::vector<Detection> non_max_suppression(std::vector<Detection> detections, const NmsOptions& options);

}  // namespace osprey::vision
