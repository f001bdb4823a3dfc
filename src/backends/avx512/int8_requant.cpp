#include "backends/avx512/int8_requant.h"

#include <cmath>

#include "backends/op_checks.h"
#include "core/error.h"
#include "kernels/ref/quantized/common.h"

namespace osprey {

bool int8_requant_params(const Graph& graph, const Op& op, int channels, int axis, Activation activation,
                         Int8Requant& rq) {
  using namespace backend_checks;
  namespace rqz = ref::quantized;
  const Tensor& input = in(graph, op, 0);
  const Tensor& weights = in(graph, op, 1);
  const Tensor& output = out(graph, op);
  if (!rqz::is_int8_or_uint8(input.type) || weights.type != input.type || !weights.is_constant ||
      weights.data == nullptr || weights.sparsity != nullptr) {
    return false;
  }
  if (input.type == DType::kUInt8 && weights.quant.per_channel()) return false;
  const bool bias = has(op, 2);
  if (bias) {
    const Tensor& b = in(graph, op, 2);
    if (b.type != DType::kInt32 || b.num_elements() != channels || !b.is_constant || b.data == nullptr ||
        b.sparsity != nullptr) {
      return false;
    }
  }
  try {
    // The reference kernel's own checks and derivations, so both agree on every value.
    const rqz::TensorParams x = rqz::activation_params(input, "input", input.type);
    const rqz::TensorParams y = rqz::activation_params(output, "output", input.type);
    const std::vector<float> scales = rqz::weight_scales(weights, channels, axis, "weights");
    const quant::QuantizedRange range = rqz::activation_range(activation, output);
    rq.is_signed = input.type == DType::kInt8;
    rq.channels = channels;
    rq.input_zero_point = x.zero_point;
    rq.output_zero_point = y.zero_point;
    rq.weight_zero_point = 0;
    if (!rq.is_signed) {
      const int64_t zp = weights.quant.zero_point.empty() ? 0 : weights.quant.zero_point[0];
      if (zp < 0 || zp > 255) return false;
      rq.weight_zero_point = static_cast<int32_t>(zp);
    }
    rq.qmin = range.min;
    rq.qmax = range.max;
    rq.mode = quant::arithmetic();
    const size_t padded =
        static_cast<size_t>((channels + kInt8ChannelPad - 1) / kInt8ChannelPad) * kInt8ChannelPad;
    rq.scale.assign(padded, 0.0f);
    rq.multiplier.assign(padded, 0);
    rq.left_shift.assign(padded, 0);
    rq.right_shift.assign(padded, 0);
    rq.bias.assign(padded, 0);
    for (int c = 0; c < channels; ++c) {
      const size_t u = static_cast<size_t>(c);
      rq.scale[u] = x.scale * scales[u] / y.scale;
      const double real =
          rq.is_signed
              ? static_cast<double>(x.scale) * static_cast<double>(scales[u]) / static_cast<double>(y.scale)
              : static_cast<double>(x.scale * scales[u]) / static_cast<double>(y.scale);
      const quant::QuantizedMultiplier m = quant::quantize_multiplier(real);
      rq.multiplier[u] = m.multiplier;
      if (rq.mode == quant::Arithmetic::kTfliteSingle) {
        rq.right_shift[u] = 31 - m.shift;
      } else {
        rq.left_shift[u] = m.shift > 0 ? m.shift : 0;
        rq.right_shift[u] = m.shift > 0 ? 0 : -m.shift;
      }
      if (bias) rq.bias[u] = in(graph, op, 2).data_as<int32_t>()[c];
    }
  } catch (const Error&) {
    return false;
  }
  return true;
}

bool int8_requant_packs(const Int8Requant& rq, const std::vector<int64_t>& weight_magnitudes) {
  if (rq.mode != quant::Arithmetic::kLiteRT) return false;
  OSPREY_CHECK(weight_magnitudes.size() >= static_cast<size_t>(rq.channels),
               "int8 requantization: {} weight magnitudes for {} channels", weight_magnitudes.size(),
               rq.channels);
  for (size_t c = 0; c < static_cast<size_t>(rq.channels); ++c) {
    const double scale = rq.scale[c];
    if (scale <= 0.5) continue;
    // The largest |sum| the channel can reach, in double: no int64 overflow to fear.
    const double reach =
        std::abs(static_cast<double>(rq.bias[c])) + 255.0 * static_cast<double>(weight_magnitudes[c]);
    if (!(reach * scale < 0x1p30)) return false;
  }
  return true;
}

}  // namespace osprey
