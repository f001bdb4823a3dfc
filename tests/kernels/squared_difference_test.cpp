// SQUARED_DIFFERENCE, float32 and int8, with broadcasting: checked against naive
// loops written independently of the kernel, plus its op registry entry.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/float_cases.h"
#include "kernels/op_tester.h"
#include "kernels/quant_kernel_helpers.h"
#include "model/loader.h"
#include "model/model_file.h"
#include "model/writer.h"
#include "ops/registry.h"
#include "quant/quantizer.h"

namespace osprey {
namespace {

using quant_test::per_tensor;
using testing::broadcast_index;
using testing::expect_error;
using testing::OpTester;

Shape broadcast_shape(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int32_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int32_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    out[i] = std::max(da, db);
  }
  return out;
}

// (a - b)^2 per output element, in double.
template <typename T, typename RealA, typename RealB>
std::vector<double> naive(const Shape& a_shape, const std::vector<T>& a, const Shape& b_shape,
                          const std::vector<T>& b, RealA real_a, RealB real_b) {
  const Shape out_shape = broadcast_shape(a_shape, b_shape);
  std::vector<double> out(static_cast<size_t>(num_elements(out_shape)));
  std::vector<int64_t> coord(out_shape.size());
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t rest = static_cast<int64_t>(i);
    for (size_t d = out_shape.size(); d-- > 0;) {
      coord[d] = rest % out_shape[d];
      rest /= out_shape[d];
    }
    const double d = real_a(a[static_cast<size_t>(broadcast_index(a_shape, coord))]) -
                     real_b(b[static_cast<size_t>(broadcast_index(b_shape, coord))]);
    out[i] = d * d;
  }
  return out;
}

const std::vector<std::pair<Shape, Shape>> kShapes = {
    {{2, 3}, {2, 3}},
    {{2, 3, 4}, {4}},
    {{4}, {2, 3, 4}},
    {{1, 3, 1}, {2, 1, 5}},
    {{5}, {1}},
    {{2, 1, 4, 1}, {3, 1, 6}},
    {{1, 8, 8, 16}, {16}},
    {{1, 1, 1, 1}, {2, 2, 2, 2}},
    {{3, 1, 2, 1, 2}, {2, 1}},
    {{7}, {7}},
};

TEST(SquaredDifference, FloatHandComputed) {
  OpTester t;
  t.add_input<float>({4}, {1, 2, -3, 0.5f});
  t.add_input<float>({4}, {4, 3, 2, 0.5f});
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kSquaredDifference);
  t.run();
  EXPECT_EQ(t.output_values<float>(), (std::vector<float>{9, 1, 25, 0}));
}

TEST(SquaredDifference, FloatBroadcastingMatchesNaive) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-4, 4);
  for (const auto& [sa, sb] : kShapes) {
    std::vector<float> a(static_cast<size_t>(num_elements(sa))), b(static_cast<size_t>(num_elements(sb)));
    for (float& x : a) x = dist(rng);
    for (float& x : b) x = dist(rng);
    OpTester t;
    t.add_input<float>(sa, a);
    t.add_input<float>(sb, b, /*constant=*/sb.size() == 1);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kSquaredDifference);
    t.run();
    ASSERT_EQ(t.output_shape(), broadcast_shape(sa, sb)) << shape_str(sa) << " " << shape_str(sb);
    const auto real = [](float x) { return static_cast<double>(x); };
    const std::vector<double> want = naive(sa, a, sb, b, real, real);
    const std::vector<float> got = t.output_values<float>();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      // One float rounding of the difference and one of the square.
      EXPECT_NEAR(got[i], want[i], 1e-6 * std::max(1.0, want[i]))
          << shape_str(sa) << " " << shape_str(sb) << " #" << i;
    }
  }
}

// TFLite's int8 arithmetic keeps results within one step of the exact value.
TEST(SquaredDifference, Int8BroadcastingWithinOneStepOfExact) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> q8(-128, 127);
  const struct {
    float sa, sb, so;
    int za, zb, zo;
  } params[] = {
      {0.02f, 0.02f, 0.01f, 0, 0, -128},
      {0.05f, 0.01f, 0.05f, 10, -20, -128},
      {0.003f, 0.04f, 0.08f, -5, 7, -100},
      {0.1f, 0.1f, 1.0f, 127, -128, -128},
  };
  int checked = 0;
  for (const auto& p : params) {
    for (const auto& [sa, sb] : kShapes) {
      std::vector<int8_t> a(static_cast<size_t>(num_elements(sa))), b(static_cast<size_t>(num_elements(sb)));
      for (int8_t& x : a) x = static_cast<int8_t>(q8(rng));
      for (int8_t& x : b) x = static_cast<int8_t>(q8(rng));
      OpTester t;
      t.add_input<int8_t>(sa, a, false, per_tensor(p.sa, p.za));
      t.add_input<int8_t>(sb, b, false, per_tensor(p.sb, p.zb));
      t.add_output(DType::kInt8, {}, per_tensor(p.so, p.zo));
      t.set_op(OpCode::kSquaredDifference);
      t.run();
      ASSERT_EQ(t.output_shape(), broadcast_shape(sa, sb));
      const std::vector<double> want = naive(
          sa, a, sb, b, [&](int8_t x) { return (x - p.za) * static_cast<double>(p.sa); },
          [&](int8_t x) { return (x - p.zb) * static_cast<double>(p.sb); });
      // Read in place: GCC 12 misreads output_values<int8_t>'s memcpy here (-Wrestrict).
      const int8_t* got = t.output().data_as<int8_t>();
      ASSERT_EQ(static_cast<size_t>(t.output().num_elements()), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        const double q = std::clamp(std::round(want[i] / p.so) + p.zo, -128.0, 127.0);
        EXPECT_LE(std::abs(got[i] - q), 1)
            << shape_str(sa) << " " << shape_str(sb) << " #" << i << " exact " << want[i];
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(SquaredDifference, RejectsBadInputs) {
  {
    OpTester t;
    t.add_input<float>({2, 3}, std::vector<float>(6));
    t.add_input<float>({2}, std::vector<float>(2));
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kSquaredDifference);
    expect_error(t, "[2, 3] and [2] cannot be broadcast");
  }
  {
    OpTester t;
    t.add_input<float>({2}, std::vector<float>(2));
    t.add_input<int32_t>({2}, std::vector<int32_t>(2));
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kSquaredDifference);
    expect_error(t, "inputs are float32 and int32");
  }
  {
    OpTester t;
    t.add_input<uint8_t>({2}, {1, 2}, false, per_tensor(0.1f, 128));
    t.add_input<uint8_t>({2}, {3, 4}, false, per_tensor(0.1f, 128));
    t.add_output(DType::kUInt8, {}, per_tensor(0.1f, 0));
    t.set_op(OpCode::kSquaredDifference);
    expect_error(t, "uint8 inputs are not supported");
  }
  {
    OpTester t;  // (2 * 1.0)^2 / (2^14 * 1e-5) >= 1: TFLite rejects it too
    t.add_input<int8_t>({2}, {1, 2}, false, per_tensor(1.0f, 0));
    t.add_input<int8_t>({2}, {3, 4}, false, per_tensor(1.0f, 0));
    t.add_output(DType::kInt8, {}, per_tensor(1e-5f, 0));
    t.set_op(OpCode::kSquaredDifference);
    expect_error(t, "output scale");
  }
}

// What the rest of osprey learns from the one registry entry.
TEST(SquaredDifference, RegistryEntryServesLoaderWriterAndQuantizer) {
  const ops::OpDef* def = ops::find_op(static_cast<int32_t>(OpCode::kSquaredDifference));
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(def->name, "SQUARED_DIFFERENCE");
  EXPECT_EQ(op_code_name(99), "SQUARED_DIFFERENCE");
  EXPECT_TRUE(quant::has_integer_form(99));
  EXPECT_EQ(def->quant.role(0), ops::InputRole::kOperand);
  EXPECT_EQ(def->quant.role(1), ops::InputRole::kOperand);

  // int8 graph -> .tflite -> graph: code, types and version 2 survive.
  Graph g;
  for (int i = 0; i < 3; ++i) {
    Tensor t;
    t.name = i == 0 ? "a" : i == 1 ? "b" : "out";
    t.type = DType::kInt8;
    t.shape = i == 1 ? Shape{3} : Shape{2, 3};
    t.quant = per_tensor(0.05f, 0);
    g.tensors.push_back(t);
  }
  Op op;
  op.code = static_cast<int32_t>(OpCode::kSquaredDifference);
  op.inputs = {0, 1};
  op.outputs = {2};
  g.ops.push_back(op);
  g.inputs = {0, 1};
  g.outputs = {2};
  EXPECT_EQ(tflite_op_version(g, g.ops[0]), 2);
  const std::vector<uint8_t> bytes = write_tflite(g);
  const auto file = ModelFile::from_bytes(bytes, "squared_difference");
  const Graph back = load_graph(*file);
  ASSERT_EQ(back.ops.size(), 1u);
  EXPECT_EQ(back.ops[0].code, 99);
  EXPECT_EQ(back.ops[0].version, 2);
  EXPECT_EQ(back.ops[0].name(), "SQUARED_DIFFERENCE");
}

}  // namespace
}  // namespace osprey
