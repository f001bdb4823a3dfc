// Activation functions, SOFTMAX and SQRT.
#include <cmath>

#include "ops/registry.h"

// Definitions name only the fields an op has; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace osprey {
namespace ref {  // src/kernels/ref/elementwise_activation.cpp
extern const KernelFactory relu_kernel, relu6_kernel, relu_n1_to_1_kernel, hard_swish_kernel, logistic_kernel,
    tanh_kernel, leaky_relu_kernel, softmax_kernel, sqrt_kernel;
}  // namespace ref
namespace ref::quantized {  // src/kernels/ref/quantized/elementwise.cpp, lut.cpp
extern const KernelFactory relu_kernel, relu6_kernel, relu_n1_to_1_kernel, hard_swish_kernel,
    leaky_relu_kernel, logistic_kernel, tanh_kernel, softmax_kernel;
}  // namespace ref::quantized
}  // namespace osprey

namespace osprey::ops {

namespace {

using namespace detail;

OpOptions parse_leaky_relu(const RawOptions& raw) {
  LeakyReluOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_LeakyReluOptions() : nullptr) o.alpha = p->alpha();
  OSPREY_CHECK(std::isfinite(o.alpha), "alpha {} is not a finite number", o.alpha);
  return o;
}
OpOptions parse_softmax(const RawOptions& raw) {
  SoftmaxOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_SoftmaxOptions() : nullptr) o.beta = p->beta();
  OSPREY_CHECK(std::isfinite(o.beta), "beta {} is not a finite number", o.beta);
  return o;
}

WrittenOptions write_leaky_relu(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  return {tfl::BuiltinOptions::LeakyReluOptions,
          tfl::CreateLeakyReluOptions(b, options_of<LeakyReluOptions>(op).alpha).Union()};
}
WrittenOptions write_softmax(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  return {tfl::BuiltinOptions::SoftmaxOptions,
          tfl::CreateSoftmaxOptions(b, options_of<SoftmaxOptions>(op).beta).Union()};
}

WrittenOptions write_hard_swish(flatbuffers::FlatBufferBuilder& b, const Op&) {
  return {tfl::BuiltinOptions::HardSwishOptions, tfl::CreateHardSwishOptions(b).Union()};
}

// TFLite's int8 HARD_SWISH needs input scale / output scale below 128; 127 leaves a margin.
QuantRule hard_swish_params() {
  QuantRule q = own_params();
  q.max_scale_ratio = 127.0f;
  return q;
}

// Float and integer kernels, version 2 once int8.
OpDef activation_op(OpCode code, std::string_view name, Kernels kernels, QuantRule quant,
                    OptionCodec options = {}) {
  return builtin_op(code, name, options, kernels, std::move(quant), nullptr, version_2_for_int8);
}

}  // namespace

std::span<const OpDef> activation_ops() {
  using enum OpCode;
  namespace q = ref::quantized;
  static const OpDef defs[] = {
      activation_op(kRelu, "RELU", {ref::relu_kernel, q::relu_kernel}, own_params()),
      activation_op(kRelu6, "RELU6", {ref::relu6_kernel, q::relu6_kernel}, own_params()),
      only_version_1(activation_op(kReluN1To1, "RELU_N1_TO_1",
                                   {ref::relu_n1_to_1_kernel, q::relu_n1_to_1_kernel}, own_params())),
      {.code = static_cast<int32_t>(kHardSwish),
       .name = "HARD_SWISH",
       .write = write_hard_swish,
       .float_kernel = ref::hard_swish_kernel,
       .integer_kernel = q::hard_swish_kernel,
       .quant = hard_swish_params()},
      // Outputs in steps of 1/256 (1/128) that saturate beyond +-8 (+-4).
      activation_op(kLogistic, "LOGISTIC", {ref::logistic_kernel, q::logistic_kernel},
                    fixed_params(1.0f / 256, -128, 8.0f)),
      activation_op(kTanh, "TANH", {ref::tanh_kernel, q::tanh_kernel}, fixed_params(1.0f / 128, 0, 4.0f)),
      activation_op(kLeakyRelu, "LEAKY_RELU", {ref::leaky_relu_kernel, q::leaky_relu_kernel}, own_params(),
                    {parse_leaky_relu, write_leaky_relu}),
      activation_op(kSoftmax, "SOFTMAX", {ref::softmax_kernel, q::softmax_kernel},
                    fixed_params(1.0f / 256, -128, 0.0f), {parse_softmax, write_softmax}),
      // Float only: the quantizer keeps it float.
      builtin_op(kSqrt, "SQRT", {}, {ref::sqrt_kernel}, {}),
  };
  return defs;
}

}  // namespace osprey::ops
