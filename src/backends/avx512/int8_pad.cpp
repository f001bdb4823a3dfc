#include "backends/avx512/int8_pad.h"

#include <vector>

#include "backends/op_checks.h"

namespace osprey {

namespace {

using namespace backend_checks;

int64_t zero_point(const Tensor& t) {
  return t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0];
}

// Per-tensor parameters, the same on both tensors.
bool same_params(const Tensor& a, const Tensor& b) {
  return a.quant.scale.size() == 1 && b.quant.scale.size() == 1 && a.quant.scale[0] == b.quant.scale[0] &&
         a.quant.zero_point.size() <= 1 && b.quant.zero_point.size() <= 1 && zero_point(a) == zero_point(b);
}

// The stored byte of `value` as the integer it stands for.
int64_t byte_value(const Tensor& t, uint8_t byte) {
  return t.type == DType::kInt8 ? static_cast<int8_t>(byte) : byte;
}

}  // namespace

bool int8_spatial_pad(const Graph& graph, const Op& op, Int8SpatialPad& pad) {
  if (op.index < 0 ||
      (op.code != static_cast<int32_t>(OpCode::kPad) && op.code != static_cast<int32_t>(OpCode::kPadV2)) ||
      *io_mismatch(op, 2, 3, 1)) {
    return false;
  }
  const Tensor& input = in(graph, op, 0);
  const Tensor& output = out(graph, op);
  if (!is_int8_activation(input) || !is_int8_activation(output) || output.type != input.type ||
      !same_params(input, output)) {
    return false;
  }
  // PAD fills with the output's zero point; PADV2 with its value, which the
  // reference kernel asks to be quantized as the output is.
  if (has(op, 2)) {
    const Tensor& value = in(graph, op, 2);
    if (value.type != input.type || !value.is_constant || !value.data || value.num_elements() != 1 ||
        !same_params(value, output) || byte_value(value, value.data[0]) != zero_point(output)) {
      return false;
    }
  }
  std::vector<int64_t> pads;
  const Tensor& paddings = in(graph, op, 1);
  if (!constant_ints(paddings, pads) || paddings.shape != Shape{4, 2}) return false;
  if (pads[0] || pads[1] || pads[6] || pads[7]) return false;  // batch and channels stay
  for (size_t d = 1; d < 3; ++d) {
    if (pads[2 * d] < 0 || pads[2 * d + 1] < 0 ||
        input.dim(static_cast<int>(d)) + pads[2 * d] + pads[2 * d + 1] != output.dim(static_cast<int>(d))) {
      return false;
    }
  }
  if (output.dim(0) != input.dim(0) || output.dim(3) != input.dim(3)) return false;
  pad = {op.inputs[0], static_cast<int>(pads[2]), static_cast<int>(pads[3]), static_cast<int>(pads[4]),
         static_cast<int>(pads[5])};
  return true;
}

}  // namespace osprey
