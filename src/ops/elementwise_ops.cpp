// Elementwise arithmetic with broadcasting.
#include "ops/registry.h"

// Definitions name only the fields an op has; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace osprey {
namespace ref {  // src/kernels/ref/elementwise.cpp, squared_difference.cpp
extern const KernelFactory add_kernel, sub_kernel, mul_kernel, div_kernel, maximum_kernel, minimum_kernel,
    prelu_kernel, squared_difference_kernel, squared_difference_int8_kernel;
}  // namespace ref
namespace ref::quantized {  // src/kernels/ref/quantized/elementwise.cpp
extern const KernelFactory add_kernel, sub_kernel, mul_kernel, prelu_kernel;
}  // namespace ref::quantized
}  // namespace osprey

namespace osprey::ops {

namespace {

using namespace detail;

// ADD, SUB, MUL and DIV options are one fused activation each, in a table type of their own:
// one parser per table, one writer for all four.
template <typename Table, const Table* (tfl::Operator::*Get)() const>
OpOptions parse_fused(const RawOptions& raw) {
  const Table* p = raw.op ? (raw.op->*Get)() : nullptr;
  return ElementwiseOptions{p ? activation(p->fused_activation_function()) : Activation::kNone};
}

WrittenOptions write_fused(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto a = activation(options_of<ElementwiseOptions>(op).activation);
  switch (static_cast<OpCode>(op.code)) {
    case OpCode::kAdd: return {tfl::BuiltinOptions::AddOptions, tfl::CreateAddOptions(b, a).Union()};
    case OpCode::kSub: return {tfl::BuiltinOptions::SubOptions, tfl::CreateSubOptions(b, a).Union()};
    case OpCode::kMul: return {tfl::BuiltinOptions::MulOptions, tfl::CreateMulOptions(b, a).Union()};
    case OpCode::kDiv: return {tfl::BuiltinOptions::DivOptions, tfl::CreateDivOptions(b, a).Union()};
    default: fail("op {} has no fused-activation options table", op.code);
  }
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

// Arithmetic on operands with their own ranges, with float and integer kernels.
OpDef arithmetic_op(OpCode code, std::string_view name, OptionCodec options, Kernels kernels) {
  return builtin_op(code, name, options, kernels, operands(), nullptr, version_2_for_int8);
}

// Picks one of its inputs per element: the output shares the inputs' parameters.
OpDef selection_op(OpCode code, std::string_view name, KernelFactory kernel) {
  return builtin_op(code, name, {nullptr, write_maximum_minimum}, {kernel}, shared_group_params(), nullptr,
                    version_2_for_int8);
}

}  // namespace

std::span<const OpDef> elementwise_ops() {
  using enum OpCode;
  namespace q = ref::quantized;
  static const OpDef defs[] = {
      arithmetic_op(
          kAdd, "ADD",
          {parse_fused<tfl::AddOptions, &tfl::Operator::builtin_options_as_AddOptions>, write_fused},
          {ref::add_kernel, q::add_kernel}),
      arithmetic_op(
          kSub, "SUB",
          {parse_fused<tfl::SubOptions, &tfl::Operator::builtin_options_as_SubOptions>, write_fused},
          {ref::sub_kernel, q::sub_kernel}),
      arithmetic_op(
          kMul, "MUL",
          {parse_fused<tfl::MulOptions, &tfl::Operator::builtin_options_as_MulOptions>, write_fused},
          {ref::mul_kernel, q::mul_kernel}),
      {.code = static_cast<int32_t>(kDiv),
       .name = "DIV",
       .parse = parse_fused<tfl::DivOptions, &tfl::Operator::builtin_options_as_DivOptions>,
       .write = write_fused,
       .float_kernel = ref::div_kernel},
      // The float kernels move int8/uint8 bytes unchanged.
      selection_op(kMaximum, "MAXIMUM", ref::maximum_kernel),
      selection_op(kMinimum, "MINIMUM", ref::minimum_kernel),
      only_version_1(arithmetic_op(kPrelu, "PRELU", {}, {ref::prelu_kernel, q::prelu_kernel})),
      arithmetic_op(kSquaredDifference, "SQUARED_DIFFERENCE", {nullptr, write_squared_difference},
                    {ref::squared_difference_kernel, ref::squared_difference_int8_kernel}),
  };
  return defs;
}

}  // namespace osprey::ops
