// Score activations and classification top-k.
#include "vision/scoring.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace osprey::vision {

float sigmoid(float logit) {
  return 1.0f / (1.0f + std::exp(-logit));
}

void softmax(std::span<const float> logits, std::span<float> out) {
  OSPREY_CHECK(logits.size() == out.size(), "softmax: {} logits but {} outputs", logits.size(), out.size());
  if (logits.empty()) return;
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  float sum = 0.0f;
  for (size_t i = 0; i < logits.size(); ++i) {
    out[i] = std::exp(logits[i] - max_logit);
    sum += out[i];
  }
  for (float& v : out) v /= sum;
}

std::vector<ClassScore> top_k(std::span<const float> scores, int k) {
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t count = std::min(order.size(), static_cast<size_t>(std::max(k, 0)));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count), order.end(),
                    [&](int a, int b) {
                      const float sa = scores[static_cast<size_t>(a)];
                      const float sb = scores[static_cast<size_t>(b)];
                      return sa != sb ? sa > sb : a < b;
                    });
  std::vector<ClassScore> best;
  best.reserve(count);
  for (size_t i = 0; i < count; ++i) best.push_back({order[i], scores[static_cast<size_t>(order[i])]});
  return best;
}

}  // namespace osprey::vision
