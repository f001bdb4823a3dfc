// Generated sweeps around osprey's AVX-512 float ADD kernel
// (backends/avx512/add.h: two tensors of one shape, 16 lanes a vector, 4096
// floats a task): sizes below, at and above the vector and the task, every
// fused activation, on 1 and 2 threads; and the ADDs it does not take
// (broadcasting, a constant input), which XNNPACK must run; a RELU6 after it
// becomes part of its clamp. Each case runs on
// every backend and must equal the reference kernel byte for byte: one
// float addition and a clamp leave no room for another order.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "backends/avx512/add.h"
#include "kernels/op_tester.h"
#include "model/tflite_schema_generated.h"
#include "runtime/interpreter.h"
#include "support/model_builder.h"

namespace osprey {
namespace {

using testing::kOspreyAvx512;
using testing::kXnnpack;
using testing::OpTester;

struct AddCase {
  Shape a{1, 3, 5, 16}, b{1, 3, 5, 16};
  bool b_constant = false;
  Activation activation = Activation::kNone;
};

void check(const AddCase& c) {
  SCOPED_TRACE(fmt::format("{} + {}{} act {}", shape_str(c.a), shape_str(c.b),
                           c.b_constant ? " (constant)" : "", static_cast<int>(c.activation)));
  std::mt19937 rng(static_cast<uint32_t>(c.a.size() * 7919 + c.a.back() * 131 + c.b.back()));
  const auto count = [](const Shape& s) {
    int64_t n = 1;
    for (int32_t d : s) n *= d;
    return n;
  };
  OpTester t;
  // Values in [-8, 8): every clamp bound has values on both sides.
  auto values = [&](const Shape& s) {
    std::vector<float> v = testing::uniform_floats(count(s), rng);
    for (float& x : v) x *= 8.0f;
    return v;
  };
  t.add_input<float>(c.a, values(c.a));
  t.add_input<float>(c.b, values(c.b), c.b_constant);
  t.add_output(DType::kFloat32);
  ElementwiseOptions o;
  o.activation = c.activation;
  t.set_op(OpCode::kAdd, o);
  t.set_threads({1, 2});
  t.set_tolerance(testing::Tolerance::kExact);
  const bool own = add_supported() && c.a == c.b && !c.b_constant;
  t.expect_claim(own ? kOspreyAvx512 : kXnnpack);
  t.run();
}

TEST(AddSweep, SizesAroundTheVectorAndTheTask) {
  for (int32_t n : {1, 15, 16, 17, 100, 4095, 4096, 4097, 8192 + 33, 3 * 4096}) {
    AddCase c;
    c.a = c.b = Shape{1, n};
    check(c);
  }
  AddCase image;  // a residual connection's shape, several tasks
  image.a = image.b = Shape{1, 24, 24, 40};
  check(image);
}

TEST(AddSweep, EveryActivation) {
  for (Activation a : {Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1}) {
    for (int32_t channels : {7, 64}) {
      AddCase c;
      c.a = c.b = Shape{1, 9, 11, channels};
      c.activation = a;
      check(c);
    }
  }
}

TEST(AddSweep, BroadcastsAndConstantsStayWithXnnpack) {
  AddCase bias;
  bias.b = Shape{16};
  check(bias);
  AddCase channels;
  channels.b = Shape{1, 1, 1, 16};
  check(channels);
  AddCase constant;
  constant.b_constant = true;
  check(constant);
}

TEST(AddSweep, AReluAfterItBecomesItsClamp) {
  testing::ModelBuilder m;
  const int a = m.activation({1, 6, 7, 24});
  const int b = m.activation({1, 6, 7, 24});
  const int sum = m.activation({1, 6, 7, 24});
  m.op(tfl::BuiltinOperator::ADD, {a, b}, {sum}, [](flatbuffers::FlatBufferBuilder& fb) {
    return std::make_pair(tfl::BuiltinOptions::AddOptions,
                          tfl::CreateAddOptions(fb, tfl::ActivationFunctionType::RELU_N1_TO_1).Union());
  });
  const int relu = m.activation({1, 6, 7, 24});
  m.op(tfl::BuiltinOperator::RELU6, {sum}, {relu});
  m.output(relu);
  const std::vector<uint8_t> bytes = m.finish();
  if (add_supported()) {
    testing::TestBackend backend = testing::make_test_backend(kOspreyAvx512, 1);
    auto interp = Interpreter::from_buffer(bytes, "add+relu6", backend.options);
    ASSERT_EQ(interp->plan_info().size(), 1u);
    EXPECT_EQ(interp->plan_info()[0].name, "OSPREY(ADD #0 + RELU6 #1)");
  }
  testing::check_model(bytes, testing::Tolerance::kExact);
}

}  // namespace
}  // namespace osprey
