// The one set of size limits osprey puts on untrusted models. No real vision model
// comes near them; they stop absurd sizes early and keep every element count, byte
// count, flat index and window coordinate well inside the integer types that hold them.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "core/shape.h"

namespace osprey::limits {

// Dimensions per tensor.
inline constexpr int kMaxRank = 8;
// Elements per tensor: byte counts of the widest type and flat indices fit in int64 with room to spare.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 31;
// One dimension, or one coordinate a window loop computes (in + dilated filter + stride):
// kernels index with int.
inline constexpr int64_t kMaxDimension = std::numeric_limits<int32_t>::max();

// Number of elements of `shape`; throws a one-line osprey::Error naming `what` when a
// dimension is negative (or zero, with positive_dims) or the product of the non-zero
// dimensions passes kMaxTensorElements (an empty tensor's other dimensions too).
int64_t checked_elements(const Shape& shape, std::string_view what, bool positive_dims = false);

}  // namespace osprey::limits
