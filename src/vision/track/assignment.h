// Matching tracks to detections: the minimum-cost assignment (Hungarian
// method) and the IoU matching built on it.
#pragma once

#include <utility>
#include <vector>

#include "vision/detection.h"

namespace osprey::vision::track {

// cost[r][c] for a rows x cols matrix (any shape; rows may be empty).
// Returns for each row the column it is assigned (-1 if rows > cols leaves it
// out) so that the total cost is the least possible.
std::vector<int> min_cost_assignment(const std::vector<std::vector<double>>& cost);

// Pairs (a index, b index) maximising the summed IoU over pairs that overlap
// by at least min_iou; allowed(i, j) = false forbids a pair (other class).
template <typename Allowed>
std::vector<std::pair<int, int>> match_by_iou(const std::vector<Box>& a, const std::vector<Box>& b,
                                              float min_iou, Allowed allowed) {
  std::vector<std::pair<int, int>> pairs;
  if (a.empty() || b.empty()) return pairs;
  // Pairs below min_iou cost as much as no pair, so the assignment never
  // trades a good match for a forbidden one.
  std::vector<std::vector<double>> cost(a.size(), std::vector<double>(b.size(), 1.0));
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < b.size(); ++j) {
      const float overlap = iou(a[i], b[j]);
      if (overlap >= min_iou && allowed(int(i), int(j))) cost[i][j] = 1.0 - overlap;
    }
  const std::vector<int> chosen = min_cost_assignment(cost);
  for (size_t i = 0; i < a.size(); ++i)
    if (chosen[i] >= 0 && cost[i][chosen[i]] < 1.0) pairs.emplace_back(int(i), chosen[i]);
  return pairs;
}

// Greedy alternative: highest IoU first (the frame-to-frame baseline's rule).
std::vector<std::pair<int, int>> greedy_match_by_iou(const std::vector<Box>& a, const std::vector<Box>& b,
                                                     float min_iou, const std::vector<int>& a_class,
                                                     const std::vector<int>& b_class);

}  // namespace osprey::vision::track
