// Type conversion, densification and reductions.
#include "ops/registry.h"

// Definitions name only the fields an op has; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace osprey {
namespace ref {  // src/kernels/ref/quantize.cpp, densify.cpp, reduce.cpp
extern const KernelFactory quantize_kernel, dequantize_kernel, densify_kernel, mean_kernel, sum_kernel,
    reduce_max_kernel;
}  // namespace ref
namespace ref::quantized {  // src/kernels/ref/quantized/pool.cpp
extern const KernelFactory mean_kernel;
}  // namespace ref::quantized
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
  static const OpDef defs[] = {
      // Not quantizable: the quantizer places QUANTIZE/DEQUANTIZE itself.
      {.code = static_cast<int32_t>(OpCode::kQuantize),
       .name = "QUANTIZE",
       .write = write_quantize,
       .float_kernel = ref::quantize_kernel,
       .version = version_2_for_int8},
      {.code = static_cast<int32_t>(OpCode::kDequantize),
       .name = "DEQUANTIZE",
       .write = write_dequantize,
       .float_kernel = ref::dequantize_kernel,
       .version = version_dequantize},
      {.code = static_cast<int32_t>(OpCode::kDensify),
       .name = "DENSIFY",
       .float_kernel = ref::densify_kernel},
      {.code = static_cast<int32_t>(OpCode::kMean),
       .name = "MEAN",
       .parse = parse_mean,
       .write = write_reducer,
       .float_kernel = ref::mean_kernel,
       .integer_kernel = ref::quantized::mean_kernel,
       .quant = own_params(),
       .macs = macs_per_input_element,
       .version = version_2_for_int8},
      {.code = static_cast<int32_t>(OpCode::kSum),
       .name = "SUM",
       .parse = parse_reducer_if_present,
       .write = write_reducer,
       .float_kernel = ref::sum_kernel},
      // The float kernel moves int8/uint8 bytes: the maximum keeps its input's parameters.
      {.code = static_cast<int32_t>(OpCode::kReduceMax),
       .name = "REDUCE_MAX",
       .parse = parse_reducer_if_present,
       .write = write_reducer,
       .float_kernel = ref::reduce_max_kernel,
       .quant = same_params()},
  };
  return defs;
}

}  // namespace osprey::ops
