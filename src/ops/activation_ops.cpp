// Activation functions and SOFTMAX.
#include "ops/registry.h"

// Definitions name only the fields an op has; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace osprey {
namespace ref {  // src/kernels/ref/elementwise_activation.cpp
std::unique_ptr<Kernel> relu_kernel();
std::unique_ptr<Kernel> relu6_kernel();
std::unique_ptr<Kernel> relu_n1_to_1_kernel();
std::unique_ptr<Kernel> hard_swish_kernel();
std::unique_ptr<Kernel> logistic_kernel();
std::unique_ptr<Kernel> tanh_kernel();
std::unique_ptr<Kernel> leaky_relu_kernel();
std::unique_ptr<Kernel> softmax_kernel();
}  // namespace ref
namespace ref::quantized {  // src/kernels/ref/quantized/elementwise.cpp, lut.cpp
std::unique_ptr<Kernel> relu_kernel();
std::unique_ptr<Kernel> relu6_kernel();
std::unique_ptr<Kernel> relu_n1_to_1_kernel();
std::unique_ptr<Kernel> hard_swish_kernel();
std::unique_ptr<Kernel> leaky_relu_kernel();
std::unique_ptr<Kernel> logistic_kernel();
std::unique_ptr<Kernel> tanh_kernel();
std::unique_ptr<Kernel> softmax_kernel();
}  // namespace ref::quantized
}  // namespace osprey

namespace osprey::ops {

namespace {

using namespace detail;

OpOptions parse_leaky_relu(const RawOptions& raw) {
  LeakyReluOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_LeakyReluOptions() : nullptr) o.alpha = p->alpha();
  return o;
}
WrittenOptions write_leaky_relu(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  return {tfl::BuiltinOptions::LeakyReluOptions,
          tfl::CreateLeakyReluOptions(b, options_of<LeakyReluOptions>(op).alpha).Union()};
}

OpOptions parse_softmax(const RawOptions& raw) {
  SoftmaxOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_SoftmaxOptions() : nullptr) o.beta = p->beta();
  return o;
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

}  // namespace

std::span<const OpDef> activation_ops() {
  static const OpDef defs[] = {
      {.code = static_cast<int32_t>(OpCode::kRelu),
       .name = "RELU",
       .float_kernel = ref::relu_kernel,
       .integer_kernel = ref::quantized::relu_kernel,
       .quant = own_params(),
       .version = version_2_for_int8},
      {.code = static_cast<int32_t>(OpCode::kRelu6),
       .name = "RELU6",
       .float_kernel = ref::relu6_kernel,
       .integer_kernel = ref::quantized::relu6_kernel,
       .quant = own_params(),
       .version = version_2_for_int8},
      {.code = static_cast<int32_t>(OpCode::kReluN1To1),
       .name = "RELU_N1_TO_1",
       .float_kernel = ref::relu_n1_to_1_kernel,
       .integer_kernel = ref::quantized::relu_n1_to_1_kernel,
       .quant = own_params(),
       .single_version = true},
      {.code = static_cast<int32_t>(OpCode::kHardSwish),
       .name = "HARD_SWISH",
       .write = write_hard_swish,
       .float_kernel = ref::hard_swish_kernel,
       .integer_kernel = ref::quantized::hard_swish_kernel,
       .quant = hard_swish_params()},
      // Outputs in steps of 1/256 (1/128) that saturate beyond +-8 (+-4).
      {.code = static_cast<int32_t>(OpCode::kLogistic),
       .name = "LOGISTIC",
       .float_kernel = ref::logistic_kernel,
       .integer_kernel = ref::quantized::logistic_kernel,
       .quant = fixed_params(1.0f / 256, -128, 8.0f),
       .version = version_2_for_int8},
      {.code = static_cast<int32_t>(OpCode::kTanh),
       .name = "TANH",
       .float_kernel = ref::tanh_kernel,
       .integer_kernel = ref::quantized::tanh_kernel,
       .quant = fixed_params(1.0f / 128, 0, 4.0f),
       .version = version_2_for_int8},
      {.code = static_cast<int32_t>(OpCode::kLeakyRelu),
       .name = "LEAKY_RELU",
       .parse = parse_leaky_relu,
       .write = write_leaky_relu,
       .float_kernel = ref::leaky_relu_kernel,
       .integer_kernel = ref::quantized::leaky_relu_kernel,
       .quant = own_params(),
       .version = version_2_for_int8},
      {.code = static_cast<int32_t>(OpCode::kSoftmax),
       .name = "SOFTMAX",
       .parse = parse_softmax,
       .write = write_softmax,
       .float_kernel = ref::softmax_kernel,
       .integer_kernel = ref::quantized::softmax_kernel,
       .quant = fixed_params(1.0f / 256, -128, 0.0f),
       .version = version_2_for_int8},
  };
  return defs;
}

}  // namespace osprey::ops
