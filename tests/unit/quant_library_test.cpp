// The .tflite writer (round trips through the loader), parameter choice and
// calibration statistics of the quantization library.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <utility>

#include "model/loader.h"
#include "model/writer.h"
#include "quant/calibration.h"
#include "quant/graph_runner.h"
#include "quant/params.h"
#include "runtime/interpreter.h"
#include "support/model_builder.h"

#ifndef OSPREY_QUANT_LIBRARY
#include "quant/sources.inc"  // until the build compiles src/quant/*.cpp as a library
#endif

namespace osprey {
namespace {

Graph load_bytes(const std::vector<uint8_t>& bytes, std::unique_ptr<ModelFile>& keep) {
  keep = ModelFile::from_bytes(bytes, "test");
  return load_graph(*keep);
}

void expect_same_graph(const Graph& a, const Graph& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t t = 0; t < a.tensors.size(); ++t) {
    const Tensor& x = a.tensors[t];
    const Tensor& y = b.tensors[t];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.shape, y.shape);
    EXPECT_EQ(x.quant.scale, y.quant.scale);
    EXPECT_EQ(x.quant.zero_point, y.quant.zero_point);
    if (x.quant.per_channel()) {
      EXPECT_EQ(x.quant.axis, y.quant.axis);
    }
    ASSERT_EQ(x.is_constant, y.is_constant) << x.name;
    if (x.is_constant) {
      EXPECT_EQ(std::memcmp(x.data, y.data, x.num_bytes()), 0) << x.name;
    }
  }
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) {
    EXPECT_EQ(a.ops[i].code, b.ops[i].code);
    EXPECT_EQ(a.ops[i].inputs, b.ops[i].inputs);
    EXPECT_EQ(a.ops[i].outputs, b.ops[i].outputs);
    EXPECT_EQ(a.ops[i].options.index(), b.ops[i].options.index());
    EXPECT_EQ(a.ops[i].custom_code, b.ops[i].custom_code);
    EXPECT_EQ(a.ops[i].custom_options, b.ops[i].custom_options);
  }
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
}

TEST(QuantWriter, RoundTripsASmallModel) {
  std::unique_ptr<ModelFile> f1, f2;
  const Graph g = load_bytes(testing::build_model(testing::tiny_conv_model()), f1);
  const std::vector<uint8_t> bytes = write_tflite(g);
  const Graph h = load_bytes(bytes, f2);
  expect_same_graph(g, h);
  const auto& o = std::get<Conv2DOptions>(h.ops[0].options);
  EXPECT_EQ(o.padding, Padding::kSame);
  EXPECT_EQ(o.stride_w, 1);
}

TEST(QuantWriter, KeepsPerChannelQuantizationOptionsAndCustomOps) {
  Graph g;
  auto add = [&](const std::string& name, DType type, Shape shape, bool constant) {
    Tensor t;
    t.name = name;
    t.type = type;
    t.shape = std::move(shape);
    g.tensors.push_back(t);
    if (constant) {
      Tensor& s = g.tensors.back();
      uint8_t* p = g.allocate_constant(s);
      for (size_t i = 0; i < s.num_bytes(); ++i) p[i] = static_cast<uint8_t>(i * 7);
      s.is_constant = true;
    }
    return static_cast<int>(g.tensors.size()) - 1;
  };
  const int in = add("in", DType::kInt8, {1, 4, 4, 2}, false);
  const int w = add("w", DType::kInt8, {1, 3, 3, 2}, true);
  const int b = add("b", DType::kInt32, {2}, true);
  const int mid = add("mid", DType::kInt8, {1, 2, 2, 2}, false);
  const int out = add("out", DType::kInt8, {1, 2, 2, 2}, false);
  for (int t : {in, mid, out}) g.tensors[static_cast<size_t>(t)].quant = {{0.5f}, {-3}, 0};
  g.tensors[static_cast<size_t>(w)].quant = {{0.1f, 0.2f}, {0, 0}, 3};
  g.tensors[static_cast<size_t>(b)].quant = {{0.05f, 0.1f}, {0, 0}, 0};
  Op dw;
  dw.code = static_cast<int32_t>(OpCode::kDepthwiseConv2D);
  dw.inputs = {in, w, b};
  dw.outputs = {mid};
  dw.options = DepthwiseConv2DOptions{Padding::kValid, 1, 1, 1, 1, 1, Activation::kRelu6};
  Op custom;
  custom.code = static_cast<int32_t>(OpCode::kCustom);
  custom.custom_code = "MyOp";
  custom.custom_options = {1, 2, 3};
  custom.inputs = {mid};
  custom.outputs = {out};
  g.ops = {dw, custom};
  g.inputs = {in};
  g.outputs = {out};
  WriterOptions options;
  options.metadata.push_back({"note", "hello"});
  std::unique_ptr<ModelFile> f;
  const Graph h = load_bytes(write_tflite(g, options), f);
  expect_same_graph(g, h);
  EXPECT_EQ(std::get<DepthwiseConv2DOptions>(h.ops[0].options).activation, Activation::kRelu6);
  EXPECT_EQ(tflite_op_version(h, h.ops[0]), 3);  // int8 depthwise
}

TEST(QuantWriter, RejectsOpsWhoseOptionsAreNotKept) {
  Graph g;
  Tensor t;
  t.shape = {1};
  g.tensors = {t, t};
  Op op;
  op.code = 26;  // SPACE_TO_DEPTH: block_size is not parsed by the loader
  op.inputs = {0};
  op.outputs = {1};
  g.ops = {op};
  g.inputs = {0};
  g.outputs = {1};
  EXPECT_THROW(write_tflite(g), Error);
}

TEST(QuantWriter, ZooModelRoundTripRunsTheSame) {
  const char* home = std::getenv("HOME");
  const std::string path =
      std::string(home ? home : "") + "/.cache/osprey/models/face_detection_short_range.tflite";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "zoo model not fetched";
  auto interp = Interpreter::load(path);
  Graph live = quant::live_graph(interp->graph());
  auto again = Interpreter::from_buffer(write_tflite(live), "rewritten");
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  float* a = interp->input(0).data_as<float>();
  for (int64_t i = 0; i < interp->input(0).num_elements(); ++i) a[i] = u(rng);
  std::memcpy(again->input(0).data, a, interp->input(0).num_bytes());
  interp->invoke();
  again->invoke();
  for (int o = 0; o < interp->num_outputs(); ++o) {
    ASSERT_EQ(std::memcmp(interp->output(o).data, again->output(o).data, interp->output(o).num_bytes()), 0);
  }
}

TEST(QuantParams, ActivationParametersIncludeZeroExactly) {
  const quant::AffineParams p = quant::choose_activation_params(-1.0f, 1.0f);
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 255);
  EXPECT_EQ(p.zero_point, -1);  // -128 + 127.5 = -0.5 rounds half away from zero
  const quant::AffineParams r = quant::choose_activation_params(0.5f, 6.0f);  // widened to [0, 6]
  EXPECT_FLOAT_EQ(r.scale, 6.0f / 255);
  EXPECT_EQ(r.zero_point, -128);
  const quant::AffineParams n = quant::choose_activation_params(-4.0f, -1.0f);  // widened to [-4, 0]
  EXPECT_EQ(n.zero_point, 127);
  const quant::AffineParams u = quant::choose_activation_params(0.0f, 2.0f, true);
  EXPECT_EQ(u.zero_point, 0);
  const quant::AffineParams z = quant::choose_activation_params(0.0f, 0.0f);  // a constant-zero tensor
  EXPECT_GT(z.scale, 0);
  // Zero is a quantized value: its level maps back to exactly 0.
  for (float lo : {-3.7f, -0.01f, -100.0f}) {
    const quant::AffineParams q = quant::choose_activation_params(lo, 2.9f);
    EXPECT_GE(q.zero_point, -128);
    EXPECT_LE(q.zero_point, 127);
  }
}

TEST(QuantParams, SymmetricWeightsPerChannel) {
  const std::vector<float> w = {1, -2, 0.5f, 0,     0,    0,
                                0, 0,  -8,   0.25f, 0.1f, 0};  // [3, 4]: channel 1 all zero
  const std::vector<float> s = quant::symmetric_weight_scales(w.data(), {3, 4}, 0);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_FLOAT_EQ(s[0], 2.0f / 127);
  EXPECT_FLOAT_EQ(s[1], 1.0f);  // no weights: any scale
  EXPECT_FLOAT_EQ(s[2], 8.0f / 127);
  const std::vector<int8_t> q = quant::quantize_weights(w.data(), {3, 4}, 0, s);
  EXPECT_EQ(q[1], -127);
  EXPECT_EQ(q[8], -127);
  for (int8_t v : q) EXPECT_GE(v, -127);
  const std::vector<float> t = quant::symmetric_weight_scales(w.data(), {3, 4}, -1);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_FLOAT_EQ(t[0], 8.0f / 127);
}

TEST(QuantParams, BiasScaleIsInputTimesWeightScale) {
  const std::vector<float> b = {1.0f, -0.5f, 1e30f};
  int clamped = 0;
  const std::vector<int32_t> q = quant::quantize_bias(b.data(), 3, 0.1f, {0.01f, 0.02f, 0.01f}, &clamped);
  EXPECT_EQ(q[0], 1000);
  EXPECT_EQ(q[1], -250);
  EXPECT_EQ(q[2], std::numeric_limits<int32_t>::max());
  EXPECT_EQ(clamped, 1);
}

TEST(QuantCalibration, HistogramGrowsAndGivesQuantiles) {
  quant::Histogram h;
  std::vector<float> v;
  for (int i = 0; i <= 1000; ++i) v.push_back(static_cast<float>(i) / 1000.0f);  // uniform [0, 1]
  h.add(v.data(), static_cast<int64_t>(v.size()));
  std::vector<float> big = {100.0f};
  h.add(big.data(), 1);  // grows the range 128-fold; old counts stay
  EXPECT_EQ(h.count(), 1002);
  EXPECT_NEAR(h.quantile(0.5), 0.5, 0.1);
  EXPECT_GT(h.quantile(1.0), 99.0);
  EXPECT_NEAR(h.quantile(0.99), 0.99, 0.1);
}

// finite_range against a scalar loop: every length around the 16-float block,
// NaN and infinities anywhere (also alone: no range), signed zeros.
TEST(QuantCalibration, FiniteRangeMatchesAScalarLoop) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> value(-1000, 1000);
  for (int n = 0; n <= 70; ++n) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> v(static_cast<size_t>(n));
      for (float& x : v) {
        const int kind = static_cast<int>(rng() % 16);
        x = kind == 0 ? nan : kind == 1 ? inf : kind == 2 ? -inf : kind == 3 ? -0.0f : value(rng);
        if (trial == 0) x = kind < 8 ? nan : inf;  // nothing finite, most often
      }
      std::optional<std::pair<float, float>> want;
      for (float x : v) {
        if (!std::isfinite(x)) continue;
        want =
            want ? std::make_pair(std::min(want->first, x), std::max(want->second, x)) : std::make_pair(x, x);
      }
      SCOPED_TRACE(::testing::Message() << "n " << n << " trial " << trial);
      const auto got = quant::finite_range(v.data(), n);
      ASSERT_EQ(got.has_value(), want.has_value());
      if (want) {
        EXPECT_EQ(got->first, want->first);
        EXPECT_EQ(got->second, want->second);
      }
    }
  }
}

TEST(QuantCalibration, MethodsClipOutliers) {
  // A graph with one tensor: calibrate directly through Calibrator::record.
  Graph g;
  Tensor in;
  in.name = "x";
  in.shape = {10000};
  g.tensors = {in};
  g.inputs = {0};
  g.outputs = {0};
  quant::GraphRunner runner(quant::copy_graph(g));
  quant::Calibrator c(runner.graph(), true);
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0, 1);
  float* x = runner.input(0).data_as<float>();
  for (int s = 0; s < 5; ++s) {
    for (int i = 0; i < 10000; ++i) x[i] = normal(rng);
    x[0] = 50.0f;  // one outlier per sample
    runner.run();
    c.record(runner);
  }
  const auto mm = c.range(0, quant::CalibrationMethod::kMinMax, 99.99);
  EXPECT_FLOAT_EQ(mm.second, 50.0f);
  const auto pc = c.range(0, quant::CalibrationMethod::kPercentile, 99.9);
  EXPECT_LT(pc.second, 5.0f);
  EXPECT_GT(pc.second, 2.5f);
  const auto en = c.range(0, quant::CalibrationMethod::kEntropy, 99.99);
  EXPECT_LT(en.second, 20.0f);
  EXPECT_GT(en.second, 2.0f);
  EXPECT_LT(en.first, -2.0f);
  EXPECT_EQ(quant::parse_calibration_method("entropy"), quant::CalibrationMethod::kEntropy);
  EXPECT_THROW(quant::parse_calibration_method("kl"), Error);
}

TEST(QuantCalibration, AugmentedVariantsAreDeterministicAndDifferent) {
  vision::Image img(40, 30, 3);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 13);
  const vision::Image a = quant::augment_image(img, 3);
  const vision::Image b = quant::augment_image(img, 3);
  const vision::Image c = quant::augment_image(img, 4);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_NE(a.pixels, c.pixels);
  EXPECT_EQ(quant::augment_image(img, 0).pixels, img.pixels);
}

}  // namespace
}  // namespace osprey
