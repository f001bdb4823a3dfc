#include "core/limits.h"

#include "core/error.h"

namespace osprey::limits {

int64_t checked_elements(const Shape& shape, std::string_view what, bool positive_dims) {
  int64_t n = 1;
  int64_t extent = 1;  // of the non-zero dimensions
  for (int32_t d : shape) {
    if (positive_dims) {
      OSPREY_CHECK(d > 0, "{} shape {} has a dimension that is not positive", what, shape_str(shape));
    } else {
      OSPREY_CHECK(d >= 0, "{} shape {} has a negative dimension", what, shape_str(shape));
    }
    // Bounded even beside a 0: kernels multiply subsets of the dimensions
    // (strides from the right, reduced counts), which must not overflow
    // either ([0, 16777217, 100663296, 524288] did, found by fuzzing).
    OSPREY_CHECK(d == 0 || extent <= kMaxTensorElements / d, "{} shape {} is too large", what,
                 shape_str(shape));
    if (d != 0) extent *= d;
    n *= d;
  }
  return n;
}

}  // namespace osprey::limits
