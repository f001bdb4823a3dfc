#include "backends/avx512/avx512_backend.h"

#include <fmt/format.h>

#include "backends/avx512/add.h"
#include "backends/avx512/depthwise_conv.h"
#include "backends/avx512/int8_kernels.h"
#include "backends/avx512/sparse_conv.h"
#include "backends/op_checks.h"

namespace osprey {

namespace {

using namespace backend_checks;

// A float32 value computed at run time.
bool is_activation(const Tensor& t, int rank = -1) {
  return is_dense_f32(t, rank) && !t.is_constant && t.rank() >= 1;
}
// A float32 constant whose bytes are still there.
bool is_static(const Tensor& t, int rank = -1) {
  return is_dense_f32(t, rank) && t.is_constant && t.data != nullptr;
}
// No bias, or a float32 constant of `channels` values.
bool bias_ok(const Graph& g, const Op& op, size_t i, int64_t channels) {
  if (!has(op, i)) return true;
  const Tensor& bias = in(g, op, i);
  return is_static(bias) && bias.num_elements() == channels;
}
const float* bias_of(const Graph& g, const Op& op) {
  return has(op, 2) ? in(g, op, 2).data_as<float>() : nullptr;
}

// Whether the sparse kernel runs `op`: a 1x1, stride-1, ungrouped float32
// CONV_2D whose weights are at least `min_zeros` zeros; `range` is its clamp.
bool claims_sparse_conv(const Graph& g, const Op& op, double min_zeros, Range& range) {
  if (op.index < 0 || op.code != static_cast<int32_t>(OpCode::kConv2D) || !sparse_conv_supported())
    return false;
  if (*io_mismatch(op, 2, 3, 1)) return false;
  const Tensor& input = in(g, op, 0);
  const Tensor& filter = in(g, op, 1);
  const Tensor& output = out(g, op);
  if (!is_activation(input, 4) || !is_activation(output, 4) || !is_static(filter, 4)) return false;
  const auto opt = options_of<Conv2DOptions>(op);
  if (!activation_range(opt.activation, range)) return false;
  if (filter.dim(1) != 1 || filter.dim(2) != 1 || opt.stride_h != 1 || opt.stride_w != 1) return false;
  if (filter.dim(3) != input.dim(3) || filter.dim(0) > 4096 || filter.dim(3) > 4096) return false;
  const int64_t cout = filter.dim(0);
  if (!bias_ok(g, op, 2, cout)) return false;
  Window y, x;
  if (!window(input.dim(1), 1, 1, opt.dilation_h, opt.padding, y) ||
      !window(input.dim(2), 1, 1, opt.dilation_w, opt.padding, x)) {
    return false;
  }
  if (output.shape != Shape{input.dim(0), static_cast<int32_t>(y.out), static_cast<int32_t>(x.out),
                            static_cast<int32_t>(cout)}) {
    return false;
  }
  return zero_fraction(filter.data_as<float>(), static_cast<size_t>(filter.num_elements())) >= min_zeros;
}

// Whether the depthwise kernel runs `op` (3x3 or 5x5, stride 1 or 2 on both
// axes, multiplier 1, no dilation), reading from a tensor padded by `pad`
// first; `shape` is what the kernel needs.
bool claims_depthwise(const Graph& g, const Op& op, const SpatialPad& pad, DepthwiseShape& shape) {
  if (op.index < 0 || op.code != static_cast<int32_t>(OpCode::kDepthwiseConv2D)) return false;
  if (*io_mismatch(op, 2, 3, 1)) return false;
  const Tensor& input = in(g, op, 0);
  const Tensor& filter = in(g, op, 1);
  const Tensor& output = out(g, op);
  if (!is_activation(input, 4) || !is_activation(output, 4)) return false;
  if (!is_static(filter, 4) || filter.dim(0) != 1) return false;
  const auto opt = options_of<DepthwiseConv2DOptions>(op);
  Range range;
  if (!activation_range(opt.activation, range)) return false;
  const int k = filter.dim(1);
  const int64_t channels = input.dim(3);
  if (filter.dim(2) != k || filter.dim(3) != channels || !bias_ok(g, op, 2, channels)) return false;
  if (opt.stride_h != opt.stride_w || opt.dilation_h != 1 || opt.dilation_w != 1) return false;
  if (!depthwise_conv_supported(k, opt.stride_h)) return false;
  Window y, x;
  if (!window(input.dim(1), k, opt.stride_h, 1, opt.padding, y) ||
      !window(input.dim(2), k, opt.stride_w, 1, opt.padding, x)) {
    return false;
  }
  if (output.shape != Shape{input.dim(0), static_cast<int32_t>(y.out), static_cast<int32_t>(x.out),
                            static_cast<int32_t>(channels)}) {
    return false;
  }
  shape = {k, opt.stride_h, input.dim(3), y.before + pad.top, x.before + pad.left, range.min, range.max};
  return true;
}

// Whether the ADD kernel runs `op`: two float32 tensors computed at run time,
// both of the output's shape (no broadcasting); `range` is its clamp.
bool claims_add(const Graph& g, const Op& op, Range& range) {
  if (op.index < 0 || op.code != static_cast<int32_t>(OpCode::kAdd) || !add_supported()) return false;
  if (*io_mismatch(op, 2, 2, 1)) return false;
  const Tensor& a = in(g, op, 0);
  const Tensor& b = in(g, op, 1);
  const Tensor& output = out(g, op);
  if (!is_activation(a) || !is_activation(b) || !is_activation(output)) return false;
  if (a.shape != output.shape || b.shape != output.shape) return false;
  return activation_range(options_of<ElementwiseOptions>(op).activation, range);
}

// Whether `op` is a PAD (or PADV2) of height and width with zeros over a
// float32 4D tensor; `pad` says how much.
bool spatial_zero_pad(const Graph& g, const Op& op, SpatialPad& pad) {
  if (op.index < 0 ||
      (op.code != static_cast<int32_t>(OpCode::kPad) && op.code != static_cast<int32_t>(OpCode::kPadV2))) {
    return false;
  }
  if (*io_mismatch(op, 2, 3, 1)) return false;
  const Tensor& input = in(g, op, 0);
  const Tensor& output = out(g, op);
  if (!is_activation(input, 4) || !is_activation(output, 4)) return false;
  std::vector<int64_t> pads;
  const Tensor& paddings = in(g, op, 1);
  if (!constant_ints(paddings, pads) || paddings.shape != Shape{4, 2}) return false;
  if (has(op, 2)) {
    const Tensor& value = in(g, op, 2);
    if (!is_static(value) || value.num_elements() != 1 || value.data_as<float>()[0] != 0.0f) return false;
  }
  Shape expected;
  for (size_t d = 0; d < 4; ++d) {
    if (pads[2 * d] < 0 || pads[2 * d + 1] < 0) return false;
    expected.push_back(static_cast<int32_t>(input.dim(static_cast<int>(d)) + pads[2 * d] + pads[2 * d + 1]));
  }
  if (expected != output.shape || pads[0] || pads[1] || pads[6] || pads[7]) return false;
  pad = {op.inputs[0], static_cast<uint32_t>(pads[2]), static_cast<uint32_t>(pads[3]),
         static_cast<uint32_t>(pads[4]), static_cast<uint32_t>(pads[5])};
  return true;
}

// Whether step `s + 1` is a RELU, RELU6 or RELU_N1_TO_1 that alone reads
// what step `s` writes: it becomes part of that step's clamp.
bool clamp_follows(const Graph& g, const std::vector<const Op*>& ops, int s,
                   const std::vector<int>& last_read, Range& clamp) {
  if (s + 1 >= static_cast<int>(ops.size())) return false;
  const Op& op = *ops[static_cast<size_t>(s)];
  const Op& next = *ops[static_cast<size_t>(s + 1)];
  if (next.index < 0 || !clamp_op_range(next, clamp) || *io_mismatch(next, 1, 1, 1)) return false;
  const Tensor& input = in(g, next, 0);
  const Tensor& output = out(g, next);
  if (!is_activation(input) || !is_activation(output) || input.shape != output.shape) return false;
  return next.inputs[0] == op.outputs[0] && last_read[static_cast<size_t>(op.outputs[0])] == s + 1;
}

std::string step_name(const Op& op) {
  return fmt::format("{} #{}", op.name(), op.index);
}

// Takes a clamp that alone reads `run`'s last step's output (clamp_follows)
// into `run`: its step, its name and `range`.
void fold_clamp(const Graph& g, const std::vector<const Op*>& ops, const std::vector<int>& last_read,
                DelegatedRun& run, std::string& name, Range& range) {
  Range clamp;
  if (!clamp_follows(g, ops, run.last_step, last_read, clamp)) return;
  range = {std::max(range.min, clamp.min), std::min(range.max, clamp.max)};
  name += " + " + step_name(*ops[static_cast<size_t>(++run.last_step)]);
}

// osprey's int8 kernel for `op` at `level`, or null.
std::unique_ptr<Kernel> int8_kernel(const Graph& g, const Op& op, Int8Level level,
                                    const std::shared_ptr<pthreadpool>& pool) {
  if (auto k = make_int8_conv(g, op, level, pool)) return k;
  if (auto k = make_int8_depthwise_conv(g, op, level, pool)) return k;
  if (auto k = make_int8_prelu(g, op, level, pool)) return k;
  if (auto k = make_int8_average_pool(g, op, level, pool)) return k;
  if (auto k = make_int8_max_pool(g, op, level, pool)) return k;
  if (auto k = make_int8_mean(g, op, level, pool)) return k;
  if (auto k = make_int8_add(g, op, level, pool)) return k;
  if (auto k = make_int8_mul(g, op, level, pool)) return k;
  if (auto k = make_int8_transpose_conv(g, op, level, pool)) return k;
  if (auto k = make_int8_resize_bilinear(g, op, level, pool)) return k;
  if (auto k = make_int8_pad(g, op, level, pool)) return k;
  return make_int8_table(g, op, level, pool);
}

// osprey's int8 convolution for step `s + 1` when step `s` is a PAD only it
// reads, which it then takes into its own padding (int8_pad.h); or null.
std::unique_ptr<Kernel> int8_kernel_after_pad(const Graph& g, const std::vector<const Op*>& ops, int s,
                                              const std::vector<int>& last_read, Int8Level level,
                                              const std::shared_ptr<pthreadpool>& pool, Int8SpatialPad& pad) {
  if (level == Int8Level::kNone || s + 1 >= static_cast<int>(ops.size())) return nullptr;
  const Op& op = *ops[static_cast<size_t>(s)];
  const Op& next = *ops[static_cast<size_t>(s + 1)];
  if (!int8_spatial_pad(g, op, pad) || next.inputs.empty() || next.inputs[0] != op.outputs[0] ||
      last_read[static_cast<size_t>(op.outputs[0])] != s + 1) {
    return nullptr;
  }
  if (auto k = make_int8_conv_after_pad(g, pad, next, level, pool)) return k;
  return make_int8_depthwise_conv_after_pad(g, pad, next, level, pool);
}

}  // namespace

Avx512Backend::Avx512Backend(std::shared_ptr<pthreadpool> pool, const Avx512Options& options)
    : pool_(std::move(pool)), options_(options) {}

Avx512Backend::~Avx512Backend() = default;

std::vector<DelegatedRun> Avx512Backend::partition(const Graph& graph, const std::vector<const Op*>& ops,
                                                   PackedSteps& packed) {
  const int n = static_cast<int>(ops.size());
  const std::vector<int> last_read = last_reads(graph, ops);
  std::vector<DelegatedRun> runs;
  const Int8Level int8 = options_.int8 ? int8_level() : Int8Level::kNone;
  for (int s = 0; s < n; ++s) {
    const Op& op = *ops[static_cast<size_t>(s)];
    DelegatedRun run;
    std::string name;
    Range range;
    DepthwiseShape shape;
    SpatialPad pad;
    Int8SpatialPad int8_pad;
    if ((run.kernel = int8_kernel_after_pad(graph, ops, s, last_read, int8, pool_, int8_pad))) {
      run.first_step = s;
      run.last_step = s + 1;
      run.inputs = {int8_pad.source};
      run.name = "OSPREY-INT8(" + step_name(op) + " + " + step_name(*ops[static_cast<size_t>(s + 1)]) + ")";
    } else if ((run.kernel = int8_kernel(graph, op, int8, pool_))) {
      run.first_step = run.last_step = s;
      run.inputs = {op.inputs[op.code == static_cast<int32_t>(OpCode::kTransposeConv) ? 2 : 0]};
      if (op.code == static_cast<int32_t>(OpCode::kMul) || op.code == static_cast<int32_t>(OpCode::kAdd))
        run.inputs.push_back(op.inputs[1]);  // both computed
      run.name = "OSPREY-INT8(" + step_name(op) + ")";
    } else if (options_.sparse_min_zeros > 0 &&
               claims_sparse_conv(graph, op, options_.sparse_min_zeros, range)) {
      run.first_step = run.last_step = s;
      name = step_name(op);
      fold_clamp(graph, ops, last_read, run, name, range);
      const Tensor& filter = in(graph, op, 1);
      run.kernel = make_sparse_conv(filter.data_as<float>(), bias_of(graph, op), filter.dim(0), filter.dim(3),
                                    range.min, range.max, pool_);
      run.name = "OSPREY-SPARSE(" + name + ")";
      run.inputs = {op.inputs[0]};
    } else if (options_.add && claims_add(graph, op, range)) {
      run.first_step = run.last_step = s;
      name = step_name(op);
      fold_clamp(graph, ops, last_read, run, name, range);
      run.kernel = make_add(range.min, range.max, pool_);
      run.name = "OSPREY(" + name + ")";
      run.inputs = {op.inputs[0], op.inputs[1]};
    } else if (!options_.depthwise) {
      continue;
    } else if (claims_depthwise(graph, op, SpatialPad{}, shape)) {
      run.first_step = run.last_step = s;
      run.inputs = {op.inputs[0]};
      name = step_name(op);
    } else if (s + 1 < n && spatial_zero_pad(graph, op, pad) &&
               ops[static_cast<size_t>(s + 1)]->inputs.size() > 0 &&
               ops[static_cast<size_t>(s + 1)]->inputs[0] == op.outputs[0] &&
               last_read[static_cast<size_t>(op.outputs[0])] == s + 1 &&
               claims_depthwise(graph, *ops[static_cast<size_t>(s + 1)], pad, shape)) {
      // A zero PAD only the depthwise convolution after it reads becomes part of its padding.
      run.first_step = s;
      run.last_step = s + 1;
      run.inputs = {pad.source};
      name = step_name(op) + " + " + step_name(*ops[static_cast<size_t>(s + 1)]);
    } else {
      continue;
    }
    if (!run.kernel) {  // a depthwise convolution, with its PAD or not
      const Op& conv = *ops[static_cast<size_t>(run.last_step)];
      Range clamp{shape.min, shape.max};
      fold_clamp(graph, ops, last_read, run, name, clamp);
      shape.min = clamp.min;
      shape.max = clamp.max;
      run.kernel =
          make_depthwise_conv(shape, in(graph, conv, 1).data_as<float>(), bias_of(graph, conv), pool_);
      run.name = "OSPREY(" + name + ")";
    }
    run.outputs = {ops[static_cast<size_t>(run.last_step)]->outputs[0]};
    packed.built(run.first_step, run.last_step);  // the kernels copy their weights
    s = run.last_step;
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace osprey
