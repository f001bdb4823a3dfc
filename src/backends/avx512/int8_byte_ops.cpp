#include "backends/avx512/int8_byte_ops.h"

#include <cmath>

#include "backends/op_checks.h"
#include "core/error.h"
#include "kernels/op_resolver.h"

namespace osprey {

using namespace backend_checks;

bool byte_params(const Tensor& t, ByteParams& p) {
  if ((t.type != DType::kInt8 && t.type != DType::kUInt8) || t.quant.scale.size() != 1 ||
      t.quant.zero_point.size() > 1 || t.sparsity) {
    return false;
  }
  p.scale = t.quant.scale[0];
  p.zero_point = t.quant.zero_point.empty() ? 0 : static_cast<int32_t>(t.quant.zero_point[0]);
  const int32_t lo = t.type == DType::kInt8 ? -128 : 0;
  return std::isfinite(p.scale) && p.scale > 0 && p.zero_point >= lo && p.zero_point <= lo + 255;
}

bool is_byte_activation(const Tensor& t) {
  return (t.type == DType::kInt8 || t.type == DType::kUInt8) && !t.is_constant && !t.sparsity &&
         t.rank() >= 1 && t.rank() <= 6 && dims_positive(t.shape);
}

std::optional<BinaryByteParams> binary_byte_params(const Graph& graph, const Op& op) {
  namespace rqz = ref::quantized;
  const Tensor& a = in(graph, op, 0);
  const Tensor& b = in(graph, op, 1);
  const Tensor& output = out(graph, op);
  if (!is_byte_activation(a) || !is_byte_activation(b) || !is_byte_activation(output) || b.type != a.type ||
      output.type != a.type) {
    return std::nullopt;
  }
  try {
    return BinaryByteParams{rqz::activation_params(a, "input 0", a.type),
                            rqz::activation_params(b, "input 1", a.type),
                            rqz::activation_params(output, "output", a.type),
                            rqz::activation_range(options_of<ElementwiseOptions>(op).activation, output)};
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::optional<BytePool> byte_pool(const Graph& graph, const Op& op, OpCode code) {
  if (op.index < 0 || op.code != static_cast<int32_t>(code) || *io_mismatch(op, 1, 1, 1)) return std::nullopt;
  const Tensor& input = in(graph, op, 0);
  const Tensor& output = out(graph, op);
  if (!is_int8_activation(input) || !is_int8_activation(output) || output.type != input.type)
    return std::nullopt;
  BytePool p;
  try {
    // What the reference kernel checks and computes, so that a kernel claims only what it runs.
    ref::quantized::check_shared_params(input, output, input.type);
    const auto opt = options_of<Pool2DOptions>(op);
    p.g = geometry::pool_geometry(input.shape, opt);
    const quant::QuantizedRange range = ref::quantized::activation_range(opt.activation, output);
    p.qmin = range.min;
    p.qmax = range.max;
  } catch (const Error&) {
    return std::nullopt;
  }
  const geometry::PoolGeometry& g = p.g;
  if (g.out.shape() != output.shape || g.pad_h >= g.filter_h || g.pad_w >= g.filter_w ||
      int64_t{g.out.h - 1} * g.stride_h - g.pad_h >= g.in.h ||
      int64_t{g.out.w - 1} * g.stride_w - g.pad_w >= g.in.w) {
    return std::nullopt;
  }
  p.is_signed = input.type == DType::kInt8;
  return p;
}

bool run_reference(const Op& op, std::vector<Tensor> inputs, Tensor output) {
  Graph probe;
  Op probe_op = op;
  probe_op.inputs.clear();
  for (Tensor& t : inputs) {
    probe_op.inputs.push_back(static_cast<int>(probe.tensors.size()));
    probe.tensors.push_back(std::move(t));
  }
  const Shape expected = output.shape;
  probe_op.outputs = {static_cast<int>(probe.tensors.size())};
  probe.tensors.push_back(std::move(output));
  std::unique_ptr<Kernel> kernel = reference_op_resolver().create(probe_op);
  if (!kernel) return false;
  try {
    KernelContext ctx(probe, probe_op);
    kernel->prepare(ctx);
    if (probe.tensors.back().shape != expected) return false;
    kernel->eval(ctx);
  } catch (const Error&) {
    return false;
  }
  return true;
}

Tensor probe_tensor(const Tensor& t, Shape shape, uint8_t* bytes, bool constant) {
  Tensor probe;
  probe.type = t.type;
  probe.quant = t.quant;
  probe.shape = std::move(shape);
  probe.data = bytes;
  probe.is_constant = constant;
  return probe;
}

}  // namespace osprey
