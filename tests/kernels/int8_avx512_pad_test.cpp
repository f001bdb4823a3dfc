// A zero-point PAD before an int8 convolution, which osprey's AVX-512 int8
// kernels take into their own padding (backends/avx512/int8_pad.h): small
// PAD + CONV_2D / DEPTHWISE_CONV_2D models over int8 and uint8 with zero
// points at the ends of each range, asymmetric pads, both paddings, strides
// and a first layer's 3 channels, on each CPU level this machine has. The
// outputs must equal the reference kernels' bit for bit; a PAD the kernels
// cannot take (another fill, another reader) must stay a step of its own.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backends/avx512/int8_cpu.h"
#include "kernels/int8_avx512_levels.h"
#include "kernels/op_tester.h"
#include "runtime/interpreter.h"
#include "support/model_builder.h"

namespace osprey {
namespace {

using testing::check_model;
using testing::kOspreyAvx512;
using testing::make_test_backend;
using testing::ModelBuilder;
using testing::ModelSpec;
using testing::Tolerance;
using fb = flatbuffers::FlatBufferBuilder;

struct PadConvCase {
  bool depthwise = false;
  int height = 9, width = 8, channels = 16, cout = 16;
  int kernel = 3, stride = 1;
  tfl::Padding padding = tfl::Padding::VALID;
  std::vector<int32_t> pads{0, 0, 1, 1, 1, 1, 0, 0};  // [4, 2]
  bool is_signed = true;
  int64_t zp = 3;
  bool padv2 = false;
  int64_t fill_offset = 0;  // PADV2: its value minus the zero point
  bool pad_is_output = false;
  bool fused = true;  // whether the kernels should take the PAD
};

std::string describe(const PadConvCase& c) {
  return fmt::format("PAD{} {} + {} {}x{}x{} k{} s{} {} {} zp {} fill +{}{}", c.padv2 ? "V2" : "",
                     fmt::join(c.pads, ","), c.depthwise ? "depthwise" : "conv", c.height, c.width,
                     c.channels, c.kernel, c.stride, c.padding == tfl::Padding::SAME ? "SAME" : "VALID",
                     c.is_signed ? "int8" : "uint8", c.zp, c.fill_offset,
                     c.pad_is_output ? " (read twice)" : "");
}

std::vector<uint8_t> random_bytes(std::mt19937& rng, size_t n, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<uint8_t> bytes(n);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(d(rng));  // int8 values as their bytes
  return bytes;
}

std::vector<uint8_t> pad_model(const PadConvCase& c) {
  std::mt19937 rng(static_cast<uint32_t>(c.height * 31 + c.width * 7 + c.channels + c.kernel));
  const auto type = c.is_signed ? tfl::TensorType::INT8 : tfl::TensorType::UINT8;
  const int ph = c.height + c.pads[2] + c.pads[3], pw = c.width + c.pads[4] + c.pads[5];
  auto out_size = [&](int size) {
    return c.padding == tfl::Padding::SAME ? (size + c.stride - 1) / c.stride
                                           : (size - c.kernel) / c.stride + 1;
  };
  const int cout = c.depthwise ? c.channels : c.cout;
  ModelBuilder m;
  const int in = m.activation({1, c.height, c.width, c.channels}, type);
  const int padded = m.activation({1, ph, pw, c.channels}, type);
  std::vector<int32_t> pad_inputs{in, m.int_constant({4, 2}, c.pads)};
  const int value = c.padv2 ? m.activation({1}, type) : -1;
  if (c.padv2) pad_inputs.push_back(value);
  m.op(c.padv2 ? tfl::BuiltinOperator::PADV2 : tfl::BuiltinOperator::PAD, pad_inputs, {padded});
  const std::vector<int32_t> w_shape = c.depthwise
                                           ? std::vector<int32_t>{1, c.kernel, c.kernel, cout}
                                           : std::vector<int32_t>{cout, c.kernel, c.kernel, c.channels};
  const int filter = m.activation(w_shape, type);
  std::vector<int32_t> bias(static_cast<size_t>(cout));
  for (int32_t& b : bias) b = std::uniform_int_distribution<int32_t>(-4000, 4000)(rng);
  const int bias_t = m.int_constant({cout}, bias);
  const int out = m.activation({1, out_size(ph), out_size(pw), cout}, type);
  if (c.depthwise) {
    m.op(tfl::BuiltinOperator::DEPTHWISE_CONV_2D, {padded, filter, bias_t}, {out}, [&](fb& b) {
      return std::make_pair(tfl::BuiltinOptions::DepthwiseConv2DOptions,
                            tfl::CreateDepthwiseConv2DOptions(b, c.padding, c.stride, c.stride, 1).Union());
    });
  } else {
    m.op(tfl::BuiltinOperator::CONV_2D, {padded, filter, bias_t}, {out}, [&](fb& b) {
      return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                            tfl::CreateConv2DOptions(b, c.padding, c.stride, c.stride).Union());
    });
  }
  m.output(out);
  if (c.pad_is_output) m.output(padded);

  ModelSpec spec = m.spec();
  spec.inputs = {in};
  auto quantize = [&](int t, float scale, int64_t zp) {
    spec.tensors[static_cast<size_t>(t)].scale = {scale};
    spec.tensors[static_cast<size_t>(t)].zero_point = {zp};
  };
  auto store = [&](int t, std::vector<uint8_t> bytes) {
    spec.buffers.push_back(std::move(bytes));
    spec.tensors[static_cast<size_t>(t)].buffer = static_cast<uint32_t>(spec.buffers.size() - 1);
  };
  const float in_scale = 0.03f, w_scale = 0.005f;
  quantize(in, in_scale, c.zp);
  quantize(padded, in_scale, c.zp);
  if (c.padv2) {
    quantize(value, in_scale, c.zp);
    store(value, {static_cast<uint8_t>(c.zp + c.fill_offset)});
  }
  quantize(filter, w_scale, c.is_signed ? 0 : 140);
  const size_t weights = static_cast<size_t>(cout) * c.kernel * c.kernel * (c.depthwise ? 1 : c.channels);
  std::vector<uint8_t> w_bytes = random_bytes(rng, weights, c.is_signed ? -127 : 0, c.is_signed ? 127 : 255);
  store(filter, std::move(w_bytes));
  quantize(bias_t, in_scale * w_scale, 0);
  const int depth = c.depthwise ? 1 : c.channels;
  quantize(out,
           in_scale * w_scale * 60.0f * static_cast<float>(c.kernel) * std::sqrt(static_cast<float>(depth)),
           c.is_signed ? -7 : 121);
  return testing::build_model(spec);
}

void check(const PadConvCase& c) {
  SCOPED_TRACE(describe(c));
  const std::vector<uint8_t> bytes = pad_model(c);
  for (Int8Level level : levels()) {
    SCOPED_TRACE(int8_level_name(level));
    LevelScope level_scope(level);
    testing::TestBackend backend = make_test_backend(kOspreyAvx512, 1);
    auto interp = Interpreter::from_buffer(bytes, "pad", backend.options);
    const std::string conv = c.depthwise ? "DEPTHWISE_CONV_2D #1" : "CONV_2D #1";
    if (level != Int8Level::kNone && c.fused) {
      ASSERT_EQ(interp->plan_info().size(), 1u);
      EXPECT_EQ(interp->plan_info()[0].name,
                fmt::format("OSPREY-INT8({} #0 + {})", c.padv2 ? "PADV2" : "PAD", conv));
    } else {
      ASSERT_EQ(interp->plan_info().size(), 2u);
      if (level != Int8Level::kNone) {
        EXPECT_EQ(interp->plan_info()[1].name, "OSPREY-INT8(" + conv + ")");
      }
    }
    check_model(bytes, Tolerance::kExact);
  }
}

TEST(Int8Avx512Pad, ConvTakesThePad) {
  for (bool is_signed : {true, false}) {
    for (int64_t zp : {0, 1, 2}) {
      PadConvCase c;
      c.is_signed = is_signed;
      c.zp = is_signed ? std::vector<int64_t>{-128, 127, 5}[static_cast<size_t>(zp)]
                       : std::vector<int64_t>{0, 255, 130}[static_cast<size_t>(zp)];
      struct Layer {
        int channels, cout, kernel, stride;
        tfl::Padding padding;
        std::vector<int32_t> pads;
        int width = 11;
      };
      for (const Layer& l : {
               // A first layer: 3 channels, 3x3 stride 2, padded at the bottom and right only.
               Layer{3, 24, 3, 2, tfl::Padding::VALID, {0, 0, 0, 1, 0, 1, 0, 0}},
               // Many channels, asymmetric pads on top of SAME padding.
               Layer{20, 17, 3, 1, tfl::Padding::SAME, {0, 0, 2, 0, 1, 3, 0, 0}},
               // 5x5 stride 2 over 3 channels.
               Layer{3, 24, 5, 2, tfl::Padding::VALID, {0, 0, 2, 2, 2, 2, 0, 0}},
               // The same two into 32 and 64 channels, wide enough for 16
               // windows at once: with VBMI, windows copied out as pixels
               // (int8_conv_patches.h), the pad's border among them.
               Layer{3, 32, 3, 2, tfl::Padding::VALID, {0, 0, 0, 1, 0, 1, 0, 0}, 40},
               Layer{3, 64, 5, 2, tfl::Padding::VALID, {0, 0, 2, 2, 2, 2, 0, 0}, 40},
           }) {
        c.channels = l.channels;
        c.cout = l.cout;
        c.kernel = l.kernel;
        c.stride = l.stride;
        c.padding = l.padding;
        c.pads = l.pads;
        c.height = 12;
        c.width = l.width;
        check(c);
      }
    }
  }
}

TEST(Int8Avx512Pad, DepthwiseTakesThePad) {
  for (bool is_signed : {true, false}) {
    for (int kernel : {3, 5}) {
      for (int stride : {1, 2}) {
        PadConvCase c;
        c.depthwise = true;
        c.is_signed = is_signed;
        c.zp = is_signed ? (stride == 1 ? -128 : 127) : (stride == 1 ? 255 : 0);
        c.kernel = kernel;
        c.stride = stride;
        c.channels = kernel == 3 ? 24 : 17;
        c.height = 10 + stride;
        c.width = 13;
        c.pads = stride == 2
                     ? std::vector<int32_t>{0, 0, 0, kernel - 2, 0, kernel - 2, 0, 0}
                     : std::vector<int32_t>{0, 0, kernel / 2, kernel / 2, kernel / 2, kernel / 2, 0, 0};
        check(c);
        c.padv2 = true;  // the same fill, as PADV2's value
        check(c);
      }
    }
  }
}

// What stays a PAD of its own: another fill, a padded copy someone else reads.
TEST(Int8Avx512Pad, OtherPadsStaySteps) {
  PadConvCase fill;
  fill.padv2 = true;
  fill.fill_offset = 1;
  fill.fused = false;
  check(fill);
  PadConvCase read_twice;
  read_twice.pad_is_output = true;
  read_twice.fused = false;
  check(read_twice);
  PadConvCase depthwise_fill = fill;
  depthwise_fill.depthwise = true;
  depthwise_fill.is_signed = false;
  depthwise_fill.zp = 200;
  check(depthwise_fill);
}

}  // namespace
}  // namespace osprey
