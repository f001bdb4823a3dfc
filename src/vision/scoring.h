// Score activations and classification top-k.
#pragma once

#include <span>
#include <vector>

namespace osprey::vision {

float sigmoid(float logit);
// Softmax over `logits`, written to `out` (same size); numerically stable.
void softmax(std::span<const float> logits, std::span<float> out);

struct ClassScore {
  int class_id = 0;
  float score = 0;
};

// The k best scores, highest first; ties keep the lower class id first.
std::vector<ClassScore> top_k(std::span<const float> scores, int k);

}  // namespace osprey::vision
