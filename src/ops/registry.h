// The op registry: everything osprey knows about an operator, declared once.
//
// Each OpDef names the op (builtin code or custom name), turns its options
// from the file into a graph/options.h struct and back, names its float and
// integer reference kernels, says how the quantizer treats it and what it
// costs. The loader, writer, kernel resolver, quantizer, target checks and
// MAC counter ask here instead of keeping lists of their own.
//
// Adding a builtin op: its OpCode line (graph/op_code.h), one OpDef in the
// family file under src/ops/, one kernel file, one test file.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "kernels/kernel.h"
#include "model/tflite_schema_generated.h"

namespace osprey::ops {

// The op's options as stored in the file: the builtin options table (absent
// when the file has none) or, for custom ops, the custom options bytes.
struct RawOptions {
  const tfl::Operator* op = nullptr;
  std::span<const uint8_t> custom;
};

// A builtin options table for the writer: its union type and offset ({NONE, 0}: no table).
using WrittenOptions = std::pair<tfl::BuiltinOptions, flatbuffers::Offset<void>>;

using OptionParser = OpOptions (*)(const RawOptions& raw);
using OptionWriter = WrittenOptions (*)(flatbuffers::FlatBufferBuilder& b, const Op& op);
using MacCounter = int64_t (*)(const Graph& g, const Op& op);
// Custom ops: the custom options bytes rebuilt from the parsed options.
using CustomOptionWriter = std::vector<uint8_t> (*)(const Op& op);
// The lowest TFLite version that covers the op's tensor types (before the int16 rule).
using VersionRule = int (*)(const Graph& g, const Op& op);

// How the quantizer treats each input of an op.
enum class InputRole : uint8_t {
  kData,        // int8 activation (a constant here is an error)
  kWeights,     // constant float -> int8 symmetric (per channel along the rule's weight axis)
  kBias,        // constant float -> int32, scale input_scale * weight_scale
  kInt,         // integer parameter (shape, axes, paddings): kept as is
  kOperand,     // activation, or a constant quantized with its own range (ADD/SUB/MUL, PRELU alpha)
  kGroupConst,  // activation, or a constant quantized with the op's shared parameters
};

// Where an integer op's output parameters come from.
enum class OutputParams : uint8_t {
  kNotQuantizable,  // no integer form: the op stays float
  kOwn,             // the output's own calibrated range
  kSameAsInputs,    // data inputs and outputs share parameters (moves, max pooling, ...)
  kFixed,           // fixed by the kernel (LOGISTIC 1/256, -128)
};

struct QuantRule {
  OutputParams output = OutputParams::kNotQuantizable;
  float fixed_scale = 0;  // kFixed
  int fixed_zero_point = 0;
  // Roles of inputs 0, 1, ...; inputs past the list take `other_inputs`.
  std::vector<InputRole> roles = {InputRole::kData};
  InputRole other_inputs = InputRole::kInt;
  int weight_axis = -1;                  // per-channel axis of kWeights; -1: per tensor only
  bool requantize_fixed_inputs = false;  // an input with fixed parameters is requantized, not shared
  float saturating_input = 0;            // > 0: the output saturates beyond +-this input value
  float max_scale_ratio = 0;             // > 0: input scale / output scale must stay below it

  InputRole role(size_t input) const { return input < roles.size() ? roles[input] : other_inputs; }
  bool quantizable() const { return output != OutputParams::kNotQuantizable; }
};

struct OpDef {
  int32_t code = 0;              // BuiltinOperator number (OpCode::kCustom for custom ops)
  std::string_view custom_name;  // custom ops: the name the model gives
  std::string_view name;         // display name, as TFLite spells it
  OptionParser parse = nullptr;  // nullptr: the op has no options osprey keeps
  OptionWriter write = nullptr;  // nullptr: written without an options table
  KernelFactory float_kernel = nullptr;
  KernelFactory integer_kernel = nullptr;  // nullptr: the float kernel also moves int8/uint8 bytes, or none
  QuantRule quant;
  MacCounter macs = nullptr;                  // nullptr: one per output element
  VersionRule version = nullptr;              // nullptr: version 1
  bool single_version = false;                // TFLite registers only version 1 (no int16 bump)
  CustomOptionWriter write_custom = nullptr;  // nullptr: custom ops keep the bytes they were loaded with
};

// nullptr when osprey does not know the op.
const OpDef* find_op(int32_t code, std::string_view custom_name = {});
const OpDef* find_op(const Op& op);
// Every definition, builtins by code, then custom ops by name.
std::span<const OpDef> all_ops();

// Runs the op's option parser (monostate for ops without one or unknown ops).
// Throws osprey::Error with a one-line reason.
OpOptions parse_options(int32_t code, std::string_view custom_name, const RawOptions& raw);

// Helpers the family files share.
namespace detail {
using R = InputRole;
// An op's options parser and writer, and its float and integer kernels, for the
// family files' row helpers.
struct OptionCodec {
  OptionParser parse = nullptr;
  OptionWriter write = nullptr;
};
struct Kernels {
  KernelFactory float_kernel = nullptr;
  KernelFactory integer_kernel = nullptr;
};
inline Activation activation(tfl::ActivationFunctionType a) {
  return static_cast<Activation>(a);
}
inline tfl::ActivationFunctionType activation(Activation a) {
  return static_cast<tfl::ActivationFunctionType>(a);
}
Padding padding(tfl::Padding p);
inline tfl::Padding padding(Padding p) {
  return static_cast<tfl::Padding>(p);
}
// The op's options of kind T; a one-line error for ops built without them.
template <typename T>
const T& options_of(const Op& op) {
  if (const T* p = std::get_if<T>(&op.options)) return *p;
  fail("osprey does not keep this op's options, so it cannot write it");
}
// A builtin op's row from its parts; custom ops and rarer fields use designated initialisers.
OpDef builtin_op(OpCode code, std::string_view name, OptionCodec options, Kernels kernels, QuantRule quant,
                 MacCounter macs = nullptr, VersionRule version = nullptr);
// For ops TFLite registers in version 1 only (no version rule, no int16 bump).
inline OpDef only_version_1(OpDef d) {
  d.version = nullptr;
  d.single_version = true;
  return d;
}
bool has_type(const Graph& g, const std::vector<int>& tensors, DType type);
bool is_int8(const Graph& g, const Op& op);
const Tensor& tensor(const Graph& g, int index);
bool has_input(const Op& op, size_t i);
int64_t macs_none(const Graph& g, const Op& op);
int64_t macs_per_input_element(const Graph& g, const Op& op);
int version_2_for_int8(const Graph& g, const Op& op);

inline QuantRule own_params(std::vector<InputRole> roles = {InputRole::kData},
                            InputRole others = InputRole::kInt) {
  return QuantRule{.output = OutputParams::kOwn, .roles = std::move(roles), .other_inputs = others};
}
inline QuantRule same_params(std::vector<InputRole> roles = {InputRole::kData},
                             InputRole others = InputRole::kInt) {
  return QuantRule{.output = OutputParams::kSameAsInputs, .roles = std::move(roles), .other_inputs = others};
}
// Data inputs share the output's parameters; one with fixed parameters is requantized instead.
inline QuantRule shared_group_params() {
  return QuantRule{.output = OutputParams::kSameAsInputs,
                   .roles = {},
                   .other_inputs = InputRole::kGroupConst,
                   .requantize_fixed_inputs = true};
}
inline QuantRule fixed_params(float scale, int zero_point, float saturating_input) {
  return QuantRule{.output = OutputParams::kFixed,
                   .fixed_scale = scale,
                   .fixed_zero_point = zero_point,
                   .saturating_input = saturating_input};
}
}  // namespace detail

// The family tables (one file each under src/ops/).
std::span<const OpDef> conv_ops();
std::span<const OpDef> elementwise_ops();
std::span<const OpDef> activation_ops();
std::span<const OpDef> layout_ops();
std::span<const OpDef> misc_ops();
std::span<const OpDef> detection_ops();
std::span<const OpDef> mediapipe_ops();

}  // namespace osprey::ops
