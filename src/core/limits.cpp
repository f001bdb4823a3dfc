#include "core/limits.h"

#include "core/error.h"

namespace osprey::limits {

int64_t checked_elements(const Shape& shape, std::string_view what, bool positive_dims) {
  int64_t n = 1;
  for (int32_t d : shape) {
    if (positive_dims) {
      OSPREY_CHECK(d > 0, "{} shape {} has a dimension that is not positive", what, shape_str(shape));
    } else {
      OSPREY_CHECK(d >= 0, "{} shape {} has a negative dimension", what, shape_str(shape));
    }
    // Zero dims are checked after the loop so [0, huge, huge] still counts as empty.
    OSPREY_CHECK(d == 0 || n <= kMaxTensorElements / d, "{} shape {} is too large", what, shape_str(shape));
    n *= d;
  }
  return n;
}

}  // namespace osprey::limits
