// Fused activations: the clamp range each one implies, for float and int32 data.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/error.h"
#include "graph/options.h"

namespace osprey::ref {

// [min, max] of a fused activation; unbounded sides are the type's extremes
// (infinities for float).
template <typename T>
struct ClampRange {
  static constexpr T kLowest = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                                    : std::numeric_limits<T>::min();
  static constexpr T kHighest = std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity()
                                                                     : std::numeric_limits<T>::max();

  T min = kLowest;
  T max = kHighest;
  T clamp(T v) const { return std::min(std::max(v, min), max); }
};

using FloatRange = ClampRange<float>;
using Int32Range = ClampRange<int32_t>;

// TFLite's CalculateActivationRange. Throws for TANH/SIGN_BIT, which TFLite
// never fuses into the ops osprey runs.
template <typename T = float>
ClampRange<T> activation_range(Activation a) {
  switch (a) {
    case Activation::kNone: return {};
    case Activation::kRelu: return {T{0}, ClampRange<T>::kHighest};
    case Activation::kReluN1To1: return {T{-1}, T{1}};
    case Activation::kRelu6: return {T{0}, T{6}};
    default: fail("unsupported fused activation {}", static_cast<int>(a));
  }
}

}  // namespace osprey::ref
