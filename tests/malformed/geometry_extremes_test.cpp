// Hostile geometry (huge dilation, stride, window, output size, window sums) must give
// a one-line osprey::Error from the float and the integer kernels alike, never
// overflow. Meant for the ASan + UBSan build, where an overflow aborts the test.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "kernels/op_tester.h"
#include "runtime/interpreter.h"
#include "support/model_builder.h"

namespace osprey::testing {
namespace {

constexpr int32_t kHuge = 0x7fffffff;

void expect_one_line(const std::string& error, const std::string& fragment) {
  EXPECT_NE(error.find(fragment), std::string::npos) << "error was: '" << error << "'";
  EXPECT_EQ(error.find('\n'), std::string::npos) << "error must be one line: " << error;
}

std::string error_of(OpTester& t) {
  try {
    t.run();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

Quantization per_tensor(float scale, int64_t zero_point) {
  Quantization q;
  q.scale = {scale};
  q.zero_point = {zero_point};
  return q;
}

// One op on a [1, 4, 4, 2] input, as float or as int8 with int8 weights and int32 bias.
class Case {
 public:
  explicit Case(bool int8) : int8_(int8) {}

  void input(const Shape& shape) {
    if (int8_) {
      t_.add_input<int8_t>(shape, std::vector<int8_t>(64, 3), false, per_tensor(0.5f, -1));
    } else {
      t_.add_input<float>(shape, std::vector<float>(64, 1.5f));
    }
  }
  void weights(const Shape& shape) {
    if (int8_) {
      t_.add_input<int8_t>(shape, std::vector<int8_t>(128, 2), true, per_tensor(0.25f, 0));
    } else {
      t_.add_input<float>(shape, std::vector<float>(128, 0.5f), true);
    }
  }
  void bias(int channels) {
    const Shape shape{channels};
    if (int8_) {
      t_.add_input<int32_t>(shape, std::vector<int32_t>(static_cast<size_t>(channels), 4), true,
                            per_tensor(0.125f, 0));
    } else {
      t_.add_input<float>(shape, std::vector<float>(static_cast<size_t>(channels), 0.25f), true);
    }
  }
  void output() {
    if (int8_) {
      t_.add_output(DType::kInt8, {}, per_tensor(0.5f, -1));
    } else {
      t_.add_output(DType::kFloat32);
    }
  }
  OpTester& tester() { return t_; }

 private:
  bool int8_;
  OpTester t_;
};

std::string conv_error(bool int8, Conv2DOptions options) {
  Case c(int8);
  c.input({1, 4, 4, 2});
  c.weights({3, 3, 3, 2});
  c.bias(3);
  c.output();
  c.tester().set_op(OpCode::kConv2D, options);
  return error_of(c.tester());
}

std::string depthwise_error(bool int8, DepthwiseConv2DOptions options) {
  Case c(int8);
  c.input({1, 4, 4, 2});
  c.weights({1, 3, 3, 4});
  c.bias(4);
  c.output();
  c.tester().set_op(OpCode::kDepthwiseConv2D, options);
  return error_of(c.tester());
}

std::string pool_error(bool int8, OpCode code, Pool2DOptions options) {
  Case c(int8);
  c.input({1, 4, 4, 2});
  c.output();
  c.tester().set_op(code, options);
  return error_of(c.tester());
}

std::string transpose_error(bool int8, const std::vector<int32_t>& output_shape,
                            TransposeConvOptions options) {
  Case c(int8);
  c.tester().add_input<int32_t>({4}, output_shape, true);
  c.weights({3, 3, 3, 2});
  c.input({1, 4, 4, 2});
  c.bias(3);
  c.output();
  c.tester().set_op(OpCode::kTransposeConv, options);
  return error_of(c.tester());
}

class GeometryExtremes : public ::testing::TestWithParam<bool> {};

TEST_P(GeometryExtremes, Conv) {
  const bool int8 = GetParam();
  EXPECT_EQ(conv_error(int8, {}), "");
  for (Padding padding : {Padding::kSame, Padding::kValid}) {
    expect_one_line(conv_error(int8, {padding, 1, 1, 1, kHuge}),
                    "height window (filter 3, dilation 2147483647");
    expect_one_line(conv_error(int8, {padding, 1, 1, 0x40000000, 1}), "width window");
    expect_one_line(conv_error(int8, {padding, kHuge, 1, 1, 1}), "too large");
    expect_one_line(conv_error(int8, {padding, 1, kHuge, kHuge, kHuge}), "too large");
    expect_one_line(conv_error(int8, {padding, 1, 1, -kHuge - 1, 1}), "must be positive");
  }
}

TEST_P(GeometryExtremes, Depthwise) {
  const bool int8 = GetParam();
  EXPECT_EQ(depthwise_error(int8, {}), "");
  for (Padding padding : {Padding::kSame, Padding::kValid}) {
    expect_one_line(depthwise_error(int8, {padding, 1, 1, 1, kHuge, 2}), "height window");
    expect_one_line(depthwise_error(int8, {padding, kHuge, kHuge, 1, 1, 2}), "too large");
    expect_one_line(depthwise_error(int8, {padding, 1, 1, kHuge, kHuge, 2}), "too large");
  }
}

TEST_P(GeometryExtremes, Pools) {
  const bool int8 = GetParam();
  for (OpCode code : {OpCode::kAveragePool2D, OpCode::kMaxPool2D}) {
    EXPECT_EQ(pool_error(int8, code, {Padding::kSame, 2, 2, 2, 2}), "");
    for (Padding padding : {Padding::kSame, Padding::kValid}) {
      expect_one_line(pool_error(int8, code, {padding, 1, 1, kHuge, 2}), "width window");
      expect_one_line(pool_error(int8, code, {padding, 1, kHuge, 2, 2}), "height window");
      expect_one_line(pool_error(int8, code, {padding, kHuge, kHuge, kHuge, kHuge}), "too large");
      expect_one_line(pool_error(int8, code, {padding, 1, 1, -1, 2}), "must be positive");
    }
  }
}

TEST_P(GeometryExtremes, TransposeConv) {
  const bool int8 = GetParam();
  EXPECT_EQ(transpose_error(int8, {1, 8, 8, 3}, {Padding::kSame, 2, 2}), "");
  for (Padding padding : {Padding::kSame, Padding::kValid}) {
    expect_one_line(transpose_error(int8, {1, 8, 8, 3}, {padding, kHuge, 2}), "too large");
    expect_one_line(transpose_error(int8, {1, 8, 8, 3}, {padding, 2, kHuge}), "too large");
    // Output sizes whose element count passes the limit, or int64 itself.
    expect_one_line(transpose_error(int8, {1, 65536, 65536, 3}, {padding, 2, 2}), "too large");
    expect_one_line(transpose_error(int8, {1, kHuge, kHuge, 3}, {padding, 2, 2}), "too large");
  }
}

INSTANTIATE_TEST_SUITE_P(FloatAndInt8, GeometryExtremes, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Int8" : "Float";
                         });

// A window of more than 2^31 / 127 int8 values: an int32 sum would overflow.
TEST(GeometryExtremes, Int8AveragePoolOverHugeWindow) {
  constexpr int kSide = 4200;
  OpTester t;
  t.add_input<int8_t>({1, kSide, kSide, 1}, std::vector<int8_t>(size_t{kSide} * kSide, 127), false,
                      per_tensor(0.5f, 0));
  t.add_output(DType::kInt8, {}, per_tensor(0.5f, 0));
  t.set_op(OpCode::kAveragePool2D, Pool2DOptions{Padding::kValid, 1, 1, kSide, kSide});
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{1, 1, 1, 1}));
  EXPECT_EQ(t.output_values<int8_t>(), std::vector<int8_t>{127});
}

// An empty tensor whose other dimensions multiply past int64 from the
// right is refused like a huge one: kernels multiply subsets of the
// dimensions (broadcast strides, reduced counts). Found by
// fuzz_backends_agree as a signed overflow in MUL's broadcast strides.
TEST(GeometryExtremes, EmptyTensorWithHugeDimensionsIsRefused) {
  ModelBuilder m;
  const int x = m.activation({0, 16777217, 100663296, 524288});
  const int y = m.activation({0, 16777217, 100663296, 524288});
  m.op(tfl::BuiltinOperator::MUL, {x, m.constant({}, {2.0f})}, {y});
  m.output(y);
  try {
    Interpreter::from_buffer(m.finish(), "mul");
    FAIL() << "loaded";
  } catch (const Error& e) {
    expect_one_line(e.what(), "[0, 16777217, 100663296, 524288] has more than 2^31 elements besides its 0");
  }
}

// The same through a whole model file: loader, interpreter, integer kernel,
// on every backend stack a user can pick.
ModelSpec int8_conv_model(int stride, int dilation = 1) {
  ModelSpec m = tiny_conv_model();
  m.ops = {m.ops[0]};  // CONV_2D alone
  m.ops[0].options = [=](flatbuffers::FlatBufferBuilder& b) {
    return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                          tfl::CreateConv2DOptions(b, tfl::Padding::SAME, stride, stride,
                                                   tfl::ActivationFunctionType::NONE, dilation, dilation)
                              .Union());
  };
  m.outputs = {3};
  m.buffers[1] = std::vector<uint8_t>(4 * 3 * 3 * 2, 1);       // int8 weights
  m.buffers[2] = as_bytes(std::vector<int32_t>{1, -1, 2, 0});  // int32 bias
  const auto quantize = [&](size_t tensor, int8_t type, float scale, int64_t zero_point) {
    m.tensors[tensor].type = type;
    m.tensors[tensor].scale = {scale};
    m.tensors[tensor].zero_point = {zero_point};
  };
  quantize(0, 9, 0.5f, -1);   // INT8 input
  quantize(1, 9, 0.25f, 0);   // INT8 weights
  quantize(2, 2, 0.125f, 0);  // INT32 bias
  quantize(3, 9, 0.5f, -1);   // INT8 output
  return m;
}

std::string load_and_run(const ModelSpec& spec, const std::string& backends) {
  try {
    const BackendStack stack = make_backends(backends, 1);
    InterpreterOptions options = stack.options();
    options.guard_bytes = kGuardBytes;
    auto interp = Interpreter::from_buffer(build_model(spec), "m.tflite", options);
    interp->invoke();
    return "";
  } catch (const KernelOverrun& e) {
    ADD_FAILURE() << "a kernel bug, not a rejection: " << e.what();
    return e.what();
  } catch (const Error& e) {
    return e.what();
  }
}

class GeometryExtremesOnBackends : public ::testing::TestWithParam<std::string> {};

TEST_P(GeometryExtremesOnBackends, Int8AndFloatModelsWithHugeStrideOrDilation) {
  const std::string& backends = GetParam();
  EXPECT_EQ(load_and_run(int8_conv_model(1), backends), "");
  expect_one_line(load_and_run(int8_conv_model(kHuge), backends), "too large");
  for (int dilation : {kHuge, kHuge / 2}) {
    SCOPED_TRACE(dilation);
    expect_one_line(load_and_run(int8_conv_model(1, dilation), backends), "CONV_2D");
  }
  // Large but within the limits: SAME padding covers it, as in TFLite.
  EXPECT_EQ(load_and_run(int8_conv_model(1, 1 << 20), backends), "");
  ModelSpec float_model = tiny_conv_model();
  float_model.ops[0].stride = kHuge;
  expect_one_line(load_and_run(float_model, backends), "too large");
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, GeometryExtremesOnBackends,
                         ::testing::Values("ref", "xnnpack", "osprey-avx512", "osprey-avx512,xnnpack"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-' || c == ',') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace osprey::testing
