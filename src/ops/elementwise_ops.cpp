// Elementwise arithmetic with broadcasting.
#include "ops/registry.h"

// Definitions name only the fields an op has; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace osprey {
namespace ref {  // src/kernels/ref/elementwise.cpp
std::unique_ptr<Kernel> add_kernel();
std::unique_ptr<Kernel> sub_kernel();
std::unique_ptr<Kernel> mul_kernel();
std::unique_ptr<Kernel> div_kernel();
std::unique_ptr<Kernel> maximum_kernel();
std::unique_ptr<Kernel> minimum_kernel();
std::unique_ptr<Kernel> prelu_kernel();
std::unique_ptr<Kernel> squared_difference_kernel();       // squared_difference.cpp
std::unique_ptr<Kernel> squared_difference_int8_kernel();  // squared_difference.cpp
}  // namespace ref
namespace ref::quantized {  // src/kernels/ref/quantized/elementwise.cpp
std::unique_ptr<Kernel> add_kernel();
std::unique_ptr<Kernel> sub_kernel();
std::unique_ptr<Kernel> mul_kernel();
std::unique_ptr<Kernel> prelu_kernel();
}  // namespace ref::quantized
}  // namespace osprey

namespace osprey::ops {

namespace {

using namespace detail;

// ADD, SUB, MUL and DIV options are one fused activation each, in their own table type.
template <typename Table, const Table* (tfl::Operator::*Get)() const>
OpOptions parse_fused(const RawOptions& raw) {
  const Table* p = raw.op ? (raw.op->*Get)() : nullptr;
  return ElementwiseOptions{p ? activation(p->fused_activation_function()) : Activation::kNone};
}

WrittenOptions write_add(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto a = activation(options_of<ElementwiseOptions>(op).activation);
  return {tfl::BuiltinOptions::AddOptions, tfl::CreateAddOptions(b, a).Union()};
}
WrittenOptions write_sub(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto a = activation(options_of<ElementwiseOptions>(op).activation);
  return {tfl::BuiltinOptions::SubOptions, tfl::CreateSubOptions(b, a).Union()};
}
WrittenOptions write_mul(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto a = activation(options_of<ElementwiseOptions>(op).activation);
  return {tfl::BuiltinOptions::MulOptions, tfl::CreateMulOptions(b, a).Union()};
}
WrittenOptions write_div(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto a = activation(options_of<ElementwiseOptions>(op).activation);
  return {tfl::BuiltinOptions::DivOptions, tfl::CreateDivOptions(b, a).Union()};
}
WrittenOptions write_squared_difference(flatbuffers::FlatBufferBuilder& b, const Op&) {
  return {tfl::BuiltinOptions::SquaredDifferenceOptions, tfl::CreateSquaredDifferenceOptions(b).Union()};
}
WrittenOptions write_maximum_minimum(flatbuffers::FlatBufferBuilder& b, const Op&) {
  return {tfl::BuiltinOptions::MaximumMinimumOptions, tfl::CreateMaximumMinimumOptions(b).Union()};
}

// Every input is an activation or a constant with its own range.
QuantRule operands() {
  return own_params({}, InputRole::kOperand);
}

}  // namespace

std::span<const OpDef> elementwise_ops() {
  static const OpDef defs[] = {
      {.code = static_cast<int32_t>(OpCode::kAdd),
       .name = "ADD",
       .parse = parse_fused<tfl::AddOptions, &tfl::Operator::builtin_options_as_AddOptions>,
       .write = write_add,
       .float_kernel = ref::add_kernel,
       .integer_kernel = ref::quantized::add_kernel,
       .quant = operands(),
       .version = version_2_for_int8},
      {.code = static_cast<int32_t>(OpCode::kSub),
       .name = "SUB",
       .parse = parse_fused<tfl::SubOptions, &tfl::Operator::builtin_options_as_SubOptions>,
       .write = write_sub,
       .float_kernel = ref::sub_kernel,
       .integer_kernel = ref::quantized::sub_kernel,
       .quant = operands(),
       .version = version_2_for_int8},
      {.code = static_cast<int32_t>(OpCode::kMul),
       .name = "MUL",
       .parse = parse_fused<tfl::MulOptions, &tfl::Operator::builtin_options_as_MulOptions>,
       .write = write_mul,
       .float_kernel = ref::mul_kernel,
       .integer_kernel = ref::quantized::mul_kernel,
       .quant = operands(),
       .version = version_2_for_int8},
      {.code = static_cast<int32_t>(OpCode::kDiv),
       .name = "DIV",
       .parse = parse_fused<tfl::DivOptions, &tfl::Operator::builtin_options_as_DivOptions>,
       .write = write_div,
       .float_kernel = ref::div_kernel},
      // The float kernels move int8/uint8 bytes unchanged.
      {.code = static_cast<int32_t>(OpCode::kMaximum),
       .name = "MAXIMUM",
       .write = write_maximum_minimum,
       .float_kernel = ref::maximum_kernel,
       .quant = shared_group_params(),
       .version = version_2_for_int8},
      {.code = static_cast<int32_t>(OpCode::kMinimum),
       .name = "MINIMUM",
       .write = write_maximum_minimum,
       .float_kernel = ref::minimum_kernel,
       .quant = shared_group_params(),
       .version = version_2_for_int8},
      {.code = static_cast<int32_t>(OpCode::kPrelu),
       .name = "PRELU",
       .float_kernel = ref::prelu_kernel,
       .integer_kernel = ref::quantized::prelu_kernel,
       .quant = operands(),
       .single_version = true},
      {.code = static_cast<int32_t>(OpCode::kSquaredDifference),
       .name = "SQUARED_DIFFERENCE",
       .write = write_squared_difference,
       .float_kernel = ref::squared_difference_kernel,
       .integer_kernel = ref::squared_difference_int8_kernel,
       .quant = operands(),
       .version = version_2_for_int8},
  };
  return defs;
}

}  // namespace osprey::ops
