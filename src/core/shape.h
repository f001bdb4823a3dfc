// Tensor shapes: a list of dimensions, outermost first (NHWC for images).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace osprey {

using Shape = std::vector<int32_t>;

// Number of elements; 1 for a scalar (empty shape).
int64_t num_elements(const Shape& shape);
// "[1, 128, 128, 3]"
std::string shape_str(const Shape& shape);

}  // namespace osprey
