// Output shapes of the shape-changing ONNX ops, shared by constant folding
// and conversion (osprey needs every shape static at import time).
#pragma once

#include <vector>

#include "onnx/builder.h"

namespace osprey::onnx {

// Reshape's target (0 copies the input dimension unless allowzero, -1 is inferred).
Dims reshape_dims(const Dims& in, const std::vector<int64_t>& spec, bool allowzero);
Dims flatten_dims(const Dims& in, int64_t axis);
Dims squeeze_dims(const Dims& in, std::vector<int64_t> axes);
Dims unsqueeze_dims(const Dims& in, std::vector<int64_t> axes);
// NumPy broadcasting of two shapes.
Dims broadcast_dims(const Dims& a, const Dims& b);

// Squeeze/Unsqueeze axes: attribute before opset 13, constant input from it.
std::vector<int64_t> squeeze_axes(Builder& b, const Node& node);

// One Slice, resolved per dimension of the input: begin, step and count.
struct SliceDims {
  std::vector<int64_t> begin, step;
  Dims out;
};
SliceDims slice_dims(Builder& b, const Node& node);

}  // namespace osprey::onnx
