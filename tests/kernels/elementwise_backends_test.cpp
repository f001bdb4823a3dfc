// Single ops on every backend against the reference kernels, through the
// Interpreter on small .tflite models (check_model): binary ops with
// broadcasting and fused activations, the activations, PRELU and SOFTMAX.
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "kernels/op_tester.h"
#include "model/tflite_schema_generated.h"
#include "runtime/interpreter.h"
#include "support/model_builder.h"

namespace osprey {
namespace {

using fb = flatbuffers::FlatBufferBuilder;
using namespace osprey::testing;

// ---------------------------------------------------------------------------
// Elementwise.

BuiltinOptionsWriter binary_options(tfl::BuiltinOperator code, tfl::ActivationFunctionType a) {
  return [code, a](fb& b) -> std::pair<tfl::BuiltinOptions, flatbuffers::Offset<void>> {
    switch (code) {
      case tfl::BuiltinOperator::ADD:
        return {tfl::BuiltinOptions::AddOptions, tfl::CreateAddOptions(b, a).Union()};
      case tfl::BuiltinOperator::SUB:
        return {tfl::BuiltinOptions::SubOptions, tfl::CreateSubOptions(b, a).Union()};
      case tfl::BuiltinOperator::MUL:
        return {tfl::BuiltinOptions::MulOptions, tfl::CreateMulOptions(b, a).Union()};
      case tfl::BuiltinOperator::DIV:
        return {tfl::BuiltinOptions::DivOptions, tfl::CreateDivOptions(b, a).Union()};
      default: return {tfl::BuiltinOptions::NONE, 0};
    }
  };
}

TEST(XnnpackOps, BinaryBroadcastingAndActivations) {
  using O = tfl::BuiltinOperator;
  using A = tfl::ActivationFunctionType;
  struct Shapes {
    std::vector<int32_t> a, b;
    bool b_constant;
  };
  for (O code : {O::ADD, O::SUB, O::MUL, O::DIV, O::MAXIMUM, O::MINIMUM}) {
    for (const Shapes& s : std::vector<Shapes>{{{1, 5, 7, 3}, {1, 5, 7, 3}, false},
                                               {{1, 5, 7, 3}, {3}, true},
                                               {{1, 5, 7, 3}, {1, 1, 1, 3}, false},
                                               {{1, 5, 1, 3}, {1, 1, 7, 1}, false},
                                               {{2, 4, 6}, {1}, true},
                                               {{1, 4, 4, 8}, {1, 4, 4, 8}, true}}) {
      ModelBuilder m;
      const int a = m.activation(s.a);
      const int b = s.b_constant ? m.random_constant(s.b) : m.activation(s.b);
      const int out = m.activation({1});
      const A act = code == O::DIV ? A::NONE : A::RELU6;
      m.op(code, {a, b}, {out}, binary_options(code, act));
      m.output(out);
      SCOPED_TRACE(fmt::format("{} {} and {}", tfl::EnumNameBuiltinOperator(code), fmt::join(s.a, "x"),
                               fmt::join(s.b, "x")));
      check_model(m.finish(), Tolerance::kElementwise);
    }
  }
}

std::vector<uint8_t> unary_model(tfl::BuiltinOperator code, std::vector<int32_t> shape,
                                 BuiltinOptionsWriter options = nullptr) {
  ModelBuilder m;
  const int in = m.activation(shape);
  const int out = m.activation(shape);
  m.op(code, {in}, {out}, std::move(options));
  m.output(out);
  return m.finish();
}

TEST(XnnpackOps, Activations) {
  using O = tfl::BuiltinOperator;
  for (O code : {O::RELU, O::RELU6, O::RELU_N1_TO_1, O::HARD_SWISH, O::LOGISTIC}) {
    SCOPED_TRACE(tfl::EnumNameBuiltinOperator(code));
    // Inputs are in [-1, 1]: scale them up through a MUL so the clamps bite.
    ModelBuilder m;
    const int in = m.activation({1, 6, 5, 7});
    const int scale = m.constant({1}, {6.0f});
    const int scaled = m.activation({1, 6, 5, 7});
    const int out = m.activation({1, 6, 5, 7});
    m.op(O::MUL, {in, scale}, {scaled}, binary_options(O::MUL, tfl::ActivationFunctionType::NONE));
    m.op(code, {scaled}, {out});
    m.output(out);
    check_model(m.finish(), code == O::LOGISTIC || code == O::HARD_SWISH ? Tolerance::kAccumulated
                                                                         : Tolerance::kElementwise);
  }
  check_model(unary_model(O::LEAKY_RELU, {2, 9, 4},
                          [](fb& b) {
                            return std::make_pair(tfl::BuiltinOptions::LeakyReluOptions,
                                                  tfl::CreateLeakyReluOptions(b, 0.3f).Union());
                          }),
              Tolerance::kElementwise);
}

TEST(XnnpackOps, Prelu) {
  for (std::vector<int32_t> alpha_shape : {std::vector<int32_t>{1, 1, 6}, {6}, {1}}) {
    ModelBuilder m;
    const int in = m.activation({1, 5, 4, 6});
    const int alpha = m.random_constant(alpha_shape);
    const int out = m.activation({1, 5, 4, 6});
    m.op(tfl::BuiltinOperator::PRELU, {in, alpha}, {out});
    m.output(out);
    SCOPED_TRACE(fmt::format("alpha {}", fmt::join(alpha_shape, "x")));
    check_model(m.finish(), Tolerance::kElementwise);
  }
  // A slope varying over space is not per channel: reference kernels.
  ModelBuilder m;
  const int in = m.activation({1, 5, 4, 6});
  const int alpha = m.random_constant({5, 4, 6});
  const int out = m.activation({1, 5, 4, 6});
  m.op(tfl::BuiltinOperator::PRELU, {in, alpha}, {out});
  m.output(out);
  check_model(m.finish(), Tolerance::kElementwise, Expect::kReference);
}

TEST(XnnpackOps, Softmax) {
  auto options = [](float beta) {
    return [beta](fb& b) {
      return std::make_pair(tfl::BuiltinOptions::SoftmaxOptions, tfl::CreateSoftmaxOptions(b, beta).Union());
    };
  };
  check_model(unary_model(tfl::BuiltinOperator::SOFTMAX, {3, 17}, options(1.0f)), Tolerance::kAccumulated);
  check_model(unary_model(tfl::BuiltinOperator::SOFTMAX, {1, 4, 5, 10}, options(1.0f)),
              Tolerance::kAccumulated);
  check_model(unary_model(tfl::BuiltinOperator::SOFTMAX, {3, 17}, options(0.5f)), Tolerance::kElementwise,
              Expect::kReference);
}

}  // namespace
}  // namespace osprey
