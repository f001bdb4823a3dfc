// Fused activations: the clamp range each one implies.
#pragma once

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "graph/options.h"

namespace osprey::ref {

struct FloatRange {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
  float clamp(float v) const { return std::min(std::max(v, min), max); }
};

// Throws for TANH/SIGN_BIT, which TFLite never fuses into the ops osprey runs.
inline FloatRange activation_range(Activation a) {
  switch (a) {
    case Activation::kNone: return {};
    case Activation::kRelu: return {0.0f, std::numeric_limits<float>::infinity()};
    case Activation::kReluN1To1: return {-1.0f, 1.0f};
    case Activation::kRelu6: return {0.0f, 6.0f};
    default: fail("unsupported fused activation {}", static_cast<int>(a));
  }
}

}  // namespace osprey::ref
