// Type conversion, densification and reductions.
#include "ops/registry.h"

// Definitions name only the fields an op has; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace osprey {
namespace ref {  // src/kernels/ref/quantize.cpp, densify.cpp, reduce.cpp
extern const KernelFactory quantize_kernel, dequantize_kernel, densify_kernel, mean_kernel, sum_kernel,
    reduce_max_kernel;
namespace quantized {  // src/kernels/ref/quantized/pool.cpp
extern const KernelFactory mean_kernel, sum_kernel;
}  // namespace quantized
}  // namespace ref
}  // namespace osprey

namespace osprey::ops {

namespace {

using namespace detail;

WrittenOptions write_quantize(flatbuffers::FlatBufferBuilder& b, const Op&) {
  return {tfl::BuiltinOptions::QuantizeOptions, tfl::CreateQuantizeOptions(b).Union()};
}
WrittenOptions write_dequantize(flatbuffers::FlatBufferBuilder& b, const Op&) {
  return {tfl::BuiltinOptions::DequantizeOptions, tfl::CreateDequantizeOptions(b).Union()};
}
int version_dequantize(const Graph& g, const Op& op) {
  if (has_type(g, op.inputs, DType::kFloat16)) return 3;
  return is_int8(g, op) ? 2 : 1;
}

// MEAN always has reducer options; SUM and REDUCE_MAX keep the table only when the file has one.
OpOptions parse_mean(const RawOptions& raw) {
  ReducerOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_ReducerOptions() : nullptr)
    o.keep_dims = p->keep_dims();
  return o;
}
OpOptions parse_reducer_if_present(const RawOptions& raw) {
  if (const auto* p = raw.op ? raw.op->builtin_options_as_ReducerOptions() : nullptr)
    return ReducerOptions{p->keep_dims()};
  return std::monostate{};
}
WrittenOptions write_reducer(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  return {tfl::BuiltinOptions::ReducerOptions,
          tfl::CreateReducerOptions(b, options_of<ReducerOptions>(op).keep_dims).Union()};
}

}  // namespace

std::span<const OpDef> misc_ops() {
  using enum OpCode;
  static const OpDef defs[] = {
      // Not quantizable: the quantizer places QUANTIZE/DEQUANTIZE itself.
      builtin_op(kQuantize, "QUANTIZE", {nullptr, write_quantize}, {ref::quantize_kernel}, {}, nullptr,
                 version_2_for_int8),
      builtin_op(kDequantize, "DEQUANTIZE", {nullptr, write_dequantize}, {ref::dequantize_kernel}, {},
                 nullptr, version_dequantize),
      {.code = static_cast<int32_t>(kDensify), .name = "DENSIFY", .float_kernel = ref::densify_kernel},
      builtin_op(kMean, "MEAN", {parse_mean, write_reducer}, {ref::mean_kernel, ref::quantized::mean_kernel},
                 own_params(), macs_per_input_element, version_2_for_int8),
      builtin_op(kSum, "SUM", {parse_reducer_if_present, write_reducer},
                 {ref::sum_kernel, ref::quantized::sum_kernel}, own_params(), macs_per_input_element,
                 version_2_for_int8),
      // The float kernel moves int8/uint8 bytes: the maximum keeps its input's parameters.
      builtin_op(kReduceMax, "REDUCE_MAX", {parse_reducer_if_present, write_reducer},
                 {ref::reduce_max_kernel}, same_params()),
  };
  return defs;
}

}  // namespace osprey::ops
