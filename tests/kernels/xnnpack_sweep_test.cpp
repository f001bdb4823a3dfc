// Generated sweeps of the ops XNNPACK runs most (CONV_2D, FULLY_CONNECTED,
// the pools, the binary ops): channel and element counts below, at and above
// the vector widths of its microkernels (4, 8, 16 floats), odd sizes,
// strides, dilations, both paddings and every fused activation. XNNPACK must
// claim each case; each runs on every backend and is compared with the
// reference kernel.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/op_tester.h"

namespace osprey {
namespace {

using testing::kXnnpack;
using testing::OpTester;
using testing::Tolerance;

constexpr Activation kFloatActivations[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                                            Activation::kReluN1To1};

struct XnnpackConvCase {
  int height = 6, width = 7, cin = 3, cout = 8, kernel = 3, stride = 1, dilation = 1;
  Padding padding = Padding::kSame;
  Activation activation = Activation::kRelu;
};

void check_conv(const XnnpackConvCase& c) {
  SCOPED_TRACE(fmt::format("{}x{}x{} -> {} k{} s{} d{} {} act {}", c.height, c.width, c.cin, c.cout, c.kernel,
                           c.stride, c.dilation, c.padding == Padding::kSame ? "SAME" : "VALID",
                           static_cast<int>(c.activation)));
  std::mt19937 rng(static_cast<uint32_t>(c.cin * 101 + c.cout * 7 + c.kernel));
  OpTester t;
  t.add_input<float>({1, c.height, c.width, c.cin},
                     testing::uniform_floats(int64_t{c.height} * c.width * c.cin, rng));
  t.add_input<float>({c.cout, c.kernel, c.kernel, c.cin},
                     testing::uniform_floats(int64_t{c.cout} * c.kernel * c.kernel * c.cin, rng), true);
  t.add_input<float>({c.cout}, testing::uniform_floats(c.cout, rng), true);
  t.add_output(DType::kFloat32);
  Conv2DOptions o;
  o.padding = c.padding;
  o.stride_h = o.stride_w = c.stride;
  o.dilation_h = o.dilation_w = c.dilation;
  o.activation = c.activation;
  t.set_op(OpCode::kConv2D, o);
  t.expect_claim(kXnnpack);
  t.run();
}

TEST(XnnpackSweep, ConvChannels) {
  for (int cin : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17}) {
    XnnpackConvCase c;
    c.cin = cin;
    check_conv(c);
  }
  for (int cout : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33}) {
    XnnpackConvCase c;
    c.cout = cout;
    check_conv(c);
  }
}

TEST(XnnpackSweep, ConvGeometry) {
  for (int kernel : {1, 2, 3, 5}) {
    for (int stride : {1, 2}) {
      for (int dilation : {1, 2}) {
        for (Padding padding : {Padding::kSame, Padding::kValid}) {
          XnnpackConvCase c;
          c.height = 9;
          c.width = 11;
          c.kernel = kernel;
          c.stride = stride;
          c.dilation = dilation;
          c.padding = padding;
          c.cout = 5;
          check_conv(c);
        }
      }
    }
  }
  for (Activation a : kFloatActivations) {
    XnnpackConvCase c;
    c.activation = a;
    check_conv(c);
  }
}

void check_fc(int batch, int features, int units, Activation a) {
  SCOPED_TRACE(
      fmt::format("batch {} features {} units {} act {}", batch, features, units, static_cast<int>(a)));
  std::mt19937 rng(static_cast<uint32_t>(batch * 1000 + features * 37 + units));
  OpTester t;
  t.add_input<float>({batch, features}, testing::uniform_floats(int64_t{batch} * features, rng));
  t.add_input<float>({units, features}, testing::uniform_floats(int64_t{units} * features, rng), true);
  t.add_input<float>({units}, testing::uniform_floats(units, rng), true);
  t.add_output(DType::kFloat32);
  FullyConnectedOptions o;
  o.activation = a;
  t.set_op(OpCode::kFullyConnected, o);
  t.expect_claim(kXnnpack);
  t.run();
}

TEST(XnnpackSweep, FullyConnected) {
  for (int features : {1, 3, 4, 7, 8, 15, 16, 17, 33}) check_fc(1, features, 9, Activation::kNone);
  for (int units : {1, 2, 4, 7, 8, 9, 15, 16, 17, 32, 33}) check_fc(2, 10, units, Activation::kRelu);
  for (int batch : {1, 3, 5, 8}) check_fc(batch, 6, 5, Activation::kRelu6);
  for (Activation a : kFloatActivations) check_fc(3, 12, 10, a);
}

void check_pool(OpCode code, int size, int channels, int window, int stride, Padding padding, Activation a) {
  SCOPED_TRACE(fmt::format("{} {}x{}x{} window {} stride {} {} act {}",
                           code == OpCode::kMaxPool2D ? "MAX" : "AVG", size, size + 1, channels, window,
                           stride, padding == Padding::kSame ? "SAME" : "VALID", static_cast<int>(a)));
  std::mt19937 rng(static_cast<uint32_t>(size * 53 + channels * 3 + window));
  OpTester t;
  t.add_input<float>({1, size, size + 1, channels},
                     testing::uniform_floats(int64_t{size} * (size + 1) * channels, rng));
  t.add_output(DType::kFloat32);
  Pool2DOptions o;
  o.padding = padding;
  o.stride_h = o.stride_w = stride;
  o.filter_h = o.filter_w = window;
  o.activation = a;
  t.set_op(code, o);
  t.expect_claim(kXnnpack);
  t.run();
}

TEST(XnnpackSweep, Pools) {
  for (OpCode code : {OpCode::kMaxPool2D, OpCode::kAveragePool2D}) {
    for (int channels : {1, 3, 4, 7, 8, 9, 16, 17})
      check_pool(code, 6, channels, 2, 2, Padding::kValid, Activation::kNone);
    for (int window : {2, 3, 4}) {
      for (int stride = 1; stride <= window && stride <= 3; ++stride) {
        for (Padding padding : {Padding::kSame, Padding::kValid}) {
          check_pool(code, 7, 5, window, stride, padding, Activation::kNone);
        }
      }
    }
    for (Activation a : kFloatActivations) check_pool(code, 5, 6, 3, 2, Padding::kSame, a);
  }
}

TEST(XnnpackSweep, Binary) {
  for (OpCode code :
       {OpCode::kAdd, OpCode::kSub, OpCode::kMul, OpCode::kDiv, OpCode::kMaximum, OpCode::kMinimum}) {
    for (int n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33}) {
      // Same shapes, then a per-channel operand broadcast over [1, 3, n].
      for (bool broadcast : {false, true}) {
        SCOPED_TRACE(fmt::format("op {} n {} broadcast {}", static_cast<int>(code), n, broadcast));
        std::mt19937 rng(static_cast<uint32_t>(n * 11 + static_cast<int>(code)));
        OpTester t;
        t.add_input<float>({1, 3, n}, testing::uniform_floats(3 * n, rng));
        std::vector<float> b = testing::uniform_floats(broadcast ? n : 3 * n, rng);
        if (code == OpCode::kDiv) {
          for (float& v : b) v = v < 0 ? v - 0.5f : v + 0.5f;  // away from zero
        }
        t.add_input<float>(broadcast ? Shape{n} : Shape{1, 3, n}, b, broadcast);
        t.add_output(DType::kFloat32);
        const bool fused = code != OpCode::kMaximum && code != OpCode::kMinimum;
        if (fused)
          t.set_op(code, ElementwiseOptions{n % 2 ? Activation::kRelu6 : Activation::kNone});
        else
          t.set_op(code);
        t.set_tolerance(Tolerance::kElementwise);
        t.expect_claim(kXnnpack);
        t.run();
      }
    }
  }
}

}  // namespace
}  // namespace osprey
