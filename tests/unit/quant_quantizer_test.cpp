// The quantizer on a small float graph built here (conv, relu, pooling, a
// logistic branch concatenated with a conv branch, a constant operand), and
// the target rules of `osprey check` on its output.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>

#include "model/writer.h"
#include "quant/calibration.h"
#include "quant/graph_runner.h"
#include "quant/metrics.h"
#include "quant/quantizer.h"
#include "quant/targets.h"
#include "runtime/interpreter.h"

namespace osprey {
namespace {

class GraphBuilder {
 public:
  int tensor(const std::string& name, Shape shape) {
    Tensor t;
    t.name = name;
    t.shape = std::move(shape);
    g_.tensors.push_back(t);
    return static_cast<int>(g_.tensors.size()) - 1;
  }
  int constant(const std::string& name, Shape shape, const std::vector<float>& values) {
    const int t = tensor(name, std::move(shape));
    Tensor& x = g_.tensors[static_cast<size_t>(t)];
    float* p = reinterpret_cast<float*>(g_.allocate_constant(x));
    std::memcpy(p, values.data(), x.num_bytes());
    x.is_constant = true;
    return t;
  }
  int int_constant(const std::string& name, Shape shape, const std::vector<int32_t>& values) {
    const int t = tensor(name, std::move(shape));
    Tensor& x = g_.tensors[static_cast<size_t>(t)];
    x.type = DType::kInt32;
    std::memcpy(g_.allocate_constant(x), values.data(), x.num_bytes());
    x.is_constant = true;
    return t;
  }
  void op(OpCode code, std::vector<int> in, std::vector<int> out, OpOptions options = {}) {
    Op o;
    o.index = static_cast<int>(g_.ops.size());
    o.code = static_cast<int32_t>(code);
    o.inputs = std::move(in);
    o.outputs = std::move(out);
    o.options = std::move(options);
    g_.ops.push_back(std::move(o));
  }
  Graph& graph() { return g_; }

 private:
  Graph g_;
};

std::vector<float> random_floats(std::mt19937& rng, size_t n, float scale) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// input [1,8,8,3] -> CONV 3x3 (4) -> RELU -> MAX_POOL 2x2 -> { CONV 1x1 (2) -> LOGISTIC ; CONV 1x1 (2) }
// -> CONCATENATION (channels) -> MUL by a constant -> output [1,4,4,4]
Graph test_graph(bool with_unsupported = false) {
  std::mt19937 rng(5);
  GraphBuilder b;
  const int in = b.tensor("input", {1, 8, 8, 3});
  const int w1 = b.constant("w1", {4, 3, 3, 3}, random_floats(rng, 108, 0.5f));
  const int b1 = b.constant("b1", {4}, random_floats(rng, 4, 0.1f));
  const int c1 = b.tensor("conv1", {1, 8, 8, 4});
  const int r1 = b.tensor("relu1", {1, 8, 8, 4});
  const int p1 = b.tensor("pool1", {1, 4, 4, 4});
  const int w2 = b.constant("w2", {2, 1, 1, 4}, random_floats(rng, 8, 1.0f));
  const int c2 = b.tensor("conv2", {1, 4, 4, 2});
  const int s2 = b.tensor("sigmoid", {1, 4, 4, 2});
  const int w3 = b.constant("w3", {2, 1, 1, 4}, random_floats(rng, 8, 1.0f));
  const int b3 = b.constant("b3", {2}, {0.2f, -0.3f});
  const int c3 = b.tensor("conv3", {1, 4, 4, 2});
  const int cat = b.tensor("concat", {1, 4, 4, 4});
  const int k = b.constant("k", {4}, {0.5f, -1.0f, 2.0f, 0.25f});
  const int out = b.tensor("output", {1, 4, 4, 4});
  b.op(OpCode::kConv2D, {in, w1, b1}, {c1}, Conv2DOptions{});
  b.op(OpCode::kRelu, {c1}, {r1});
  b.op(OpCode::kMaxPool2D, {r1}, {p1}, Pool2DOptions{Padding::kValid, 2, 2, 2, 2, Activation::kNone});
  b.op(OpCode::kConv2D, {p1, w2, -1}, {c2}, Conv2DOptions{});
  b.op(OpCode::kLogistic, {c2}, {s2});
  b.op(OpCode::kConv2D, {p1, w3, b3}, {c3}, Conv2DOptions{});
  b.op(OpCode::kConcatenation, {s2, c3}, {cat}, ConcatenationOptions{3, Activation::kNone});
  if (with_unsupported) {
    const int e = b.tensor("div", {1, 4, 4, 4});
    const int d = b.constant("d", {4}, {2.0f, 4.0f, 1.0f, 8.0f});
    b.op(OpCode::kDiv, {cat, d}, {e}, ElementwiseOptions{});  // DIV: no int8 form
    b.op(OpCode::kMul, {e, k}, {out}, ElementwiseOptions{});
  } else {
    b.op(OpCode::kMul, {cat, k}, {out}, ElementwiseOptions{});
  }
  b.graph().inputs = {in};
  b.graph().outputs = {out};
  return std::move(b.graph());
}

struct Calibrated {
  quant::PreparedGraph prepared;
  std::unique_ptr<quant::Calibrator> calibrator;
};

Calibrated calibrate(const Graph& g) {
  Calibrated c;
  c.prepared = quant::prepare_float_graph(g);
  c.calibrator = std::make_unique<quant::Calibrator>(c.prepared.graph, true);
  quant::GraphRunner runner(quant::copy_graph(c.prepared.graph));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int s = 0; s < 20; ++s) {
    float* x = runner.input(0).data_as<float>();
    for (int64_t i = 0; i < runner.input(0).num_elements(); ++i) x[i] = u(rng);
    runner.run();
    c.calibrator->record(runner);
  }
  return c;
}

const Op* find_op(const Graph& g, OpCode code, int nth = 0) {
  for (const Op& op : g.ops) {
    if (op.code == static_cast<int32_t>(code) && nth-- == 0) return &op;
  }
  return nullptr;
}

const Tensor& tensor(const Graph& g, int t) {
  return g.tensors[static_cast<size_t>(t)];
}

TEST(QuantQuantizer, FusesReluIntoTheConvolution) {
  const quant::PreparedGraph p = quant::prepare_float_graph(test_graph());
  EXPECT_EQ(find_op(p.graph, OpCode::kRelu), nullptr);
  EXPECT_EQ(std::get<Conv2DOptions>(find_op(p.graph, OpCode::kConv2D)->options).activation,
            Activation::kRelu);
  ASSERT_FALSE(p.notes.empty());
}

TEST(QuantQuantizer, FollowsTheQuantizationSpec) {
  const Calibrated c = calibrate(test_graph());
  quant::QuantizeOptions o;
  o.granularity = quant::Granularity::kPerChannel;
  o.io = quant::IoType::kUInt8;
  const quant::QuantizedGraph q = quant::quantize_graph(c.prepared.graph, *c.calibrator, o);
  const Graph& g = q.graph;
  EXPECT_TRUE(q.float_ops.empty());
  // uint8 model I/O, int8 inside.
  EXPECT_EQ(tensor(g, g.inputs[0]).type, DType::kUInt8);
  EXPECT_EQ(tensor(g, g.outputs[0]).type, DType::kUInt8);
  const Op* first = &g.ops.front();
  EXPECT_EQ(first->code, static_cast<int32_t>(OpCode::kQuantize));
  EXPECT_EQ(tensor(g, first->outputs[0]).quant.scale, tensor(g, first->inputs[0]).quant.scale);
  EXPECT_EQ(tensor(g, first->outputs[0]).quant.zero_point[0] + 128,
            tensor(g, first->inputs[0]).quant.zero_point[0]);
  // Conv: per-channel symmetric int8 weights on axis 0, int32 bias with scale in * w.
  const Op* conv = find_op(g, OpCode::kConv2D);
  const Tensor& w = tensor(g, conv->inputs[1]);
  const Tensor& bias = tensor(g, conv->inputs[2]);
  const Tensor& x = tensor(g, conv->inputs[0]);
  ASSERT_EQ(w.type, DType::kInt8);
  ASSERT_EQ(w.quant.scale.size(), 4u);
  EXPECT_EQ(w.quant.axis, 0);
  for (int64_t zp : w.quant.zero_point) EXPECT_EQ(zp, 0);
  for (int64_t i = 0; i < w.num_elements(); ++i) EXPECT_GE(w.data_as<int8_t>()[i], -127);
  ASSERT_EQ(bias.type, DType::kInt32);
  for (size_t ch = 0; ch < 4; ++ch)
    EXPECT_FLOAT_EQ(bias.quant.scale[ch], x.quant.scale[0] * w.quant.scale[ch]);
  // The conv feeding only a ReLU-free pool has the pool's parameters (max pool shares them).
  const Op* pool = find_op(g, OpCode::kMaxPool2D);
  EXPECT_EQ(tensor(g, pool->inputs[0]).quant.scale, tensor(g, pool->outputs[0]).quant.scale);
  EXPECT_EQ(tensor(g, pool->inputs[0]).quant.zero_point, tensor(g, pool->outputs[0]).quant.zero_point);
  // LOGISTIC: fixed 1/256, -128.
  const Op* logistic = find_op(g, OpCode::kLogistic);
  EXPECT_FLOAT_EQ(tensor(g, logistic->outputs[0]).quant.scale[0], 1.0f / 256);
  EXPECT_EQ(tensor(g, logistic->outputs[0]).quant.zero_point[0], -128);
  // CONCATENATION: every input shares the output's parameters; the fixed-parameter
  // LOGISTIC output reaches it through a requantizing QUANTIZE.
  const Op* cat = find_op(g, OpCode::kConcatenation);
  for (int in : cat->inputs) {
    EXPECT_EQ(tensor(g, in).quant.scale, tensor(g, cat->outputs[0]).quant.scale);
    EXPECT_EQ(tensor(g, in).quant.zero_point, tensor(g, cat->outputs[0]).quant.zero_point);
  }
  EXPECT_EQ(q.requantize_ops, 1);
  // MUL's constant operand is int8 with its own parameters.
  const Op* mul = find_op(g, OpCode::kMul);
  EXPECT_EQ(tensor(g, mul->inputs[1]).type, DType::kInt8);
  EXPECT_TRUE(tensor(g, mul->inputs[1]).is_constant);
}

TEST(QuantQuantizer, RunsInOspreyCloseToTheFloatGraph) {
  const Graph float_graph = test_graph();
  const Calibrated c = calibrate(float_graph);
  for (quant::IoType io : {quant::IoType::kUInt8, quant::IoType::kFloat, quant::IoType::kInt8}) {
    for (quant::Granularity gr : {quant::Granularity::kPerTensor, quant::Granularity::kPerChannel}) {
      quant::QuantizeOptions o;
      o.io = io;
      o.granularity = gr;
      const quant::QuantizedGraph q = quant::quantize_graph(c.prepared.graph, *c.calibrator, o);
      auto model = Interpreter::from_buffer(write_tflite(q.graph), "quantized");
      quant::GraphRunner ref(quant::copy_graph(float_graph));
      std::mt19937 rng(11);
      std::uniform_real_distribution<float> u(-1, 1);
      quant::ErrorAccumulator acc;
      for (int s = 0; s < 5; ++s) {
        float* x = ref.input(0).data_as<float>();
        for (int64_t i = 0; i < ref.input(0).num_elements(); ++i) x[i] = u(rng);
        Tensor& in = model->input(0);
        for (int64_t i = 0; i < in.num_elements(); ++i) {
          if (in.type == DType::kFloat32) {
            in.data_as<float>()[i] = x[i];
          } else {
            const float q = std::round(x[i] / in.quant.scale[0]) + static_cast<float>(in.quant.zero_point[0]);
            if (in.type == DType::kUInt8)
              in.data_as<uint8_t>()[i] = static_cast<uint8_t>(std::clamp(q, 0.0f, 255.0f));
            else
              in.data_as<int8_t>()[i] = static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f));
          }
        }
        ref.run();
        model->invoke();
        const std::vector<float> a = quant::dequantize_tensor(ref.output(0));
        const std::vector<float> b = quant::dequantize_tensor(model->output(0));
        acc.add(a.data(), b.data(), static_cast<int64_t>(a.size()));
      }
      const quant::ErrorMetrics m = acc.result();
      EXPECT_GT(m.snr_db, 20.0) << quant::io_type_name(io) << " " << quant::granularity_name(gr);
      EXPECT_GT(m.cosine, 0.99);
    }
  }
}

// SUM gets its own output parameters (sums of 16 values go past the input's range).
TEST(QuantQuantizer, SumGetsItsOwnParameters) {
  GraphBuilder b;
  const int in = b.tensor("input", {1, 4, 4, 3});
  const int axes = b.int_constant("axes", {2}, {1, 2});
  const int out = b.tensor("sum", {1, 1, 1, 3});
  b.op(OpCode::kSum, {in, axes}, {out}, ReducerOptions{true});
  b.graph().inputs = {in};
  b.graph().outputs = {out};
  const Graph float_graph = std::move(b.graph());
  const Calibrated c = calibrate(float_graph);
  quant::QuantizeOptions o;
  o.io = quant::IoType::kFloat;
  const quant::QuantizedGraph q = quant::quantize_graph(c.prepared.graph, *c.calibrator, o);
  const Op* sum = find_op(q.graph, OpCode::kSum);
  ASSERT_NE(sum, nullptr);
  const Tensor& sum_in = tensor(q.graph, sum->inputs[0]);
  const Tensor& sum_out = tensor(q.graph, sum->outputs[0]);
  EXPECT_EQ(sum_out.type, DType::kInt8);
  EXPECT_GT(sum_out.quant.scale[0], 2 * sum_in.quant.scale[0]);
  auto model = Interpreter::from_buffer(write_tflite(q.graph), "quantized");
  quant::GraphRunner ref(quant::copy_graph(float_graph));
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int64_t i = 0; i < ref.input(0).num_elements(); ++i)
    model->input(0).data_as<float>()[i] = ref.input(0).data_as<float>()[i] = u(rng);
  ref.run();
  model->invoke();
  for (int ch = 0; ch < 3; ++ch)
    EXPECT_NEAR(model->output(0).data_as<float>()[ch], ref.output(0).data_as<float>()[ch],
                2 * sum_out.quant.scale[0]);
}

// input [1,4,4,3] -> CONV 1x1 (2 channels, weights up to 40) -> RESHAPE ->
// "scores" [1,16,2], the model output a detection head clamps; with
// `side_reader` the convolution's output also feeds a MUL, a second output.
Graph scores_graph(bool side_reader) {
  std::mt19937 rng(11);
  GraphBuilder b;
  const int in = b.tensor("input", {1, 4, 4, 3});
  const int w = b.constant("w", {2, 1, 1, 3}, random_floats(rng, 6, 40.0f));
  const int conv = b.tensor("logits", {1, 4, 4, 2});
  const int out = b.tensor("scores", {1, 16, 2});
  b.op(OpCode::kConv2D, {in, w, -1}, {conv}, Conv2DOptions{});
  b.op(OpCode::kReshape, {conv}, {out}, ReshapeOptions{true, {1, 16, 2}});
  b.graph().inputs = {in};
  b.graph().outputs = {out};
  if (side_reader) {
    const int k = b.constant("k", {2}, {0.5f, 2.0f});
    const int side = b.tensor("side", {1, 4, 4, 2});
    b.op(OpCode::kMul, {conv, k}, {side}, ElementwiseOptions{});
    b.graph().outputs.push_back(side);
  }
  return std::move(b.graph());
}

// A head's clamp (OutputBound) bounds the output's range and the tensors that
// share its parameters, unless another op reads one of them.
TEST(QuantQuantizer, OutputsTheHeadClampsStopAtTheClamp) {
  for (const bool side_reader : {false, true}) {
    const Calibrated c = calibrate(scores_graph(side_reader));
    const auto [lo, hi] = c.calibrator->range(2, quant::CalibrationMethod::kMinMax, 100);
    ASSERT_LT(lo, -20);
    ASSERT_GT(hi, 20);
    quant::QuantizeOptions o;
    o.io = quant::IoType::kInt8;
    const quant::QuantizedGraph unbounded = quant::quantize_graph(c.prepared.graph, *c.calibrator, o);
    o.output_bounds = {{0, 10.0f, "decoder.score_clipping_thresh"}};
    const quant::QuantizedGraph bounded = quant::quantize_graph(c.prepared.graph, *c.calibrator, o);
    const Op* conv = find_op(bounded.graph, OpCode::kConv2D);
    const Op* reshape = find_op(bounded.graph, OpCode::kReshape);
    ASSERT_NE(conv, nullptr);
    ASSERT_NE(reshape, nullptr);
    const float scale = tensor(bounded.graph, reshape->outputs[0]).quant.scale[0];
    EXPECT_EQ(tensor(bounded.graph, conv->outputs[0]).quant.scale[0], scale);
    const float unbounded_scale =
        tensor(unbounded.graph, find_op(unbounded.graph, OpCode::kReshape)->outputs[0]).quant.scale[0];
    const bool noted = std::any_of(bounded.notes.begin(), bounded.notes.end(), [](const std::string& n) {
      return n.find("output 'scores'") != std::string::npos &&
             n.find("score_clipping_thresh 10") != std::string::npos;
    });
    if (side_reader) {
      EXPECT_EQ(scale, unbounded_scale);
      EXPECT_FALSE(noted);
    } else {
      EXPECT_NEAR(scale, 20.0f / 255, 1e-6f);
      EXPECT_GT(unbounded_scale, 2 * scale);
      EXPECT_TRUE(noted);
    }
  }
}

// input [1,6,6,4] -> DEPTHWISE 3x3 (channels' weights 0.01 to 100 apart,
// RELU) -> CONV 1x1 (5) -> out0, and -> DEPTHWISE 3x3 (RELU6) -> CONV 1x1 ->
// out1; both depthwise convolutions share one bias tensor, as MediaPipe's do.
Graph depthwise_pairs_graph() {
  std::mt19937 rng(13);
  GraphBuilder b;
  const int in = b.tensor("input", {1, 6, 6, 4});
  std::vector<float> w = random_floats(rng, 36, 1.0f);
  const float channel_scale[4] = {0.01f, 1.0f, 10.0f, 100.0f};
  for (size_t i = 0; i < w.size(); ++i) w[i] *= channel_scale[i % 4];
  const int bias = b.constant("shared_bias", {4}, {0.1f, -0.2f, 0.3f, 0.05f});
  DepthwiseConv2DOptions relu;
  relu.activation = Activation::kRelu;
  DepthwiseConv2DOptions relu6;
  relu6.activation = Activation::kRelu6;
  const int dw0 = b.tensor("dw0", {1, 6, 6, 4}), dw1 = b.tensor("dw1", {1, 6, 6, 4});
  const int out0 = b.tensor("out0", {1, 6, 6, 5}), out1 = b.tensor("out1", {1, 6, 6, 5});
  b.op(OpCode::kDepthwiseConv2D, {in, b.constant("w0", {1, 3, 3, 4}, w), bias}, {dw0}, relu);
  b.op(OpCode::kConv2D, {dw0, b.constant("c0", {5, 1, 1, 4}, random_floats(rng, 20, 1.0f)), -1}, {out0},
       Conv2DOptions{});
  b.op(OpCode::kDepthwiseConv2D, {in, b.constant("w1", {1, 3, 3, 4}, w), bias}, {dw1}, relu6);
  b.op(OpCode::kConv2D, {dw1, b.constant("c1", {5, 1, 1, 4}, random_floats(rng, 20, 1.0f)), -1}, {out1},
       Conv2DOptions{});
  b.graph().inputs = {in};
  b.graph().outputs = {out0, out1};
  return std::move(b.graph());
}

// Cross-layer equalization keeps the float outputs and gives each channel of
// the depthwise weights the range of the convolution's input channel; RELU6
// (not scale-free) is left alone.
TEST(QuantQuantizer, EqualizationKeepsTheOutputsAndEvensTheChannels) {
  const Graph g = depthwise_pairs_graph();
  const quant::PreparedGraph plain = quant::prepare_float_graph(g);
  const quant::PreparedGraph equalized = quant::prepare_float_graph(g, true);
  EXPECT_NE(std::find(equalized.notes.begin(), equalized.notes.end(),
                      "equalized the weights of 1 depthwise/convolution pair"),
            equalized.notes.end());
  const Graph& e = equalized.graph;
  const Op& dw = *find_op(e, OpCode::kDepthwiseConv2D);
  const Op& conv = *find_op(e, OpCode::kConv2D);
  EXPECT_EQ(tensor(e, dw.outputs[0]).name, "dw0/equalized");
  EXPECT_EQ(tensor(e, find_op(e, OpCode::kDepthwiseConv2D, 1)->outputs[0]).name, "dw1");
  EXPECT_NE(dw.inputs[2], find_op(e, OpCode::kDepthwiseConv2D, 1)->inputs[2]);  // its own copy of the bias
  for (int c = 0; c < 4; ++c) {
    float r1 = 0, r2 = 0;
    for (int i = c; i < 36; i += 4) r1 = std::max(r1, std::abs(tensor(e, dw.inputs[1]).data_as<float>()[i]));
    for (int i = c; i < 20; i += 4)
      r2 = std::max(r2, std::abs(tensor(e, conv.inputs[1]).data_as<float>()[i]));
    EXPECT_NEAR(r1, r2, 1e-5f * r2) << "channel " << c;
  }
  quant::GraphRunner a(quant::copy_graph(plain.graph)), b(quant::copy_graph(e));
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int64_t i = 0; i < a.input(0).num_elements(); ++i)
    a.input(0).data_as<float>()[i] = b.input(0).data_as<float>()[i] = u(rng);
  a.run();
  b.run();
  for (int o = 0; o < 2; ++o) {
    const Tensor& x = a.output(o);
    const Tensor& y = b.output(o);
    float largest = 0;
    for (int64_t i = 0; i < x.num_elements(); ++i)
      largest = std::max(largest, std::abs(x.data_as<float>()[i]));
    for (int64_t i = 0; i < x.num_elements(); ++i)
      ASSERT_NEAR(x.data_as<float>()[i], y.data_as<float>()[i], 1e-5f * largest)
          << "output " << o << " at " << i;
  }
}

// A float model whose weights hold NaN (found by fuzz_quantizer: the cast to
// int8 was undefined) is an error naming the tensor, not a model.
TEST(QuantQuantizer, AWeightThatIsNotANumberIsAnError) {
  Graph g = depthwise_pairs_graph();
  for (Tensor& t : g.tensors) {
    if (t.name == "c0") t.data_as<float>()[3] = std::numeric_limits<float>::quiet_NaN();
  }
  const Calibrated c = calibrate(g);
  try {
    quant::quantize_graph(c.prepared.graph, *c.calibrator, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("('c0') holds nan at element 3, which has no integer form"),
              std::string::npos)
        << e.what();
  }
}

TEST(QuantQuantizer, OpsWithoutIntegerFormAreAnErrorOrStayFloat) {
  const Calibrated c = calibrate(test_graph(true));
  quant::QuantizeOptions o;
  try {
    quant::quantize_graph(c.prepared.graph, *c.calibrator, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("DIV"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--allow-float-ops"), std::string::npos);
  }
  o.allow_float_ops = true;
  const quant::QuantizedGraph q = quant::quantize_graph(c.prepared.graph, *c.calibrator, o);
  ASSERT_EQ(q.float_ops.size(), 1u);
  // DIV reads a DEQUANTIZE and its output is QUANTIZEd again for the MUL.
  const Graph& g = q.graph;
  const Op* div = find_op(g, OpCode::kDiv);
  ASSERT_NE(div, nullptr);
  EXPECT_EQ(tensor(g, div->inputs[0]).type, DType::kFloat32);
  EXPECT_EQ(tensor(g, find_op(g, OpCode::kMul)->inputs[0]).type, DType::kInt8);
  EXPECT_NO_THROW(Interpreter::from_buffer(write_tflite(g), "hybrid"));
  EXPECT_NE(find_op(g, OpCode::kDequantize), nullptr);
  const quant::TargetReport r = quant::check_target(g, quant::Target::kArtpec8);
  EXPECT_FALSE(r.full_integer);
  EXPECT_FALSE(r.all_accelerated());
}

TEST(QuantTargets, Artpec8NamesPerChannelTensorsAndFloatOps) {
  const Calibrated c = calibrate(test_graph());
  quant::QuantizeOptions o;
  o.granularity = quant::Granularity::kPerChannel;
  const quant::QuantizedGraph pc = quant::quantize_graph(c.prepared.graph, *c.calibrator, o);
  const quant::TargetReport r = quant::check_target(pc.graph, quant::Target::kArtpec8);
  EXPECT_FALSE(r.all_accelerated());
  ASSERT_FALSE(r.per_channel_tensors.empty());
  EXPECT_NE(r.per_channel_tensors[0].find("'w1'"), std::string::npos) << r.per_channel_tensors[0];
  bool named = false;
  for (const quant::OpPlacement& p : r.ops) {
    for (const std::string& reason : p.reasons)
      named = named || reason.find("per-channel quantized 'w1'") != std::string::npos;
  }
  EXPECT_TRUE(named);
  EXPECT_NE(quant::format_target_report(r, "m").find("per-channel"), std::string::npos);

  o.granularity = quant::Granularity::kPerTensor;
  const quant::QuantizedGraph pt = quant::quantize_graph(c.prepared.graph, *c.calibrator, o);
  const quant::TargetReport t = quant::check_target(pt.graph, quant::Target::kArtpec8);
  EXPECT_TRUE(t.per_channel_tensors.empty());
  EXPECT_TRUE(t.full_integer);
  // LOGISTIC is not on Axis's ARTPEC-8 list; everything else of this graph is.
  for (const quant::OpPlacement& p : t.ops) {
    const bool logistic = p.op == "LOGISTIC";
    EXPECT_EQ(p.accelerated, !logistic) << p.op;
  }

  // The float graph: every op is named for its float tensors.
  const quant::TargetReport f = quant::check_target(test_graph(), quant::Target::kArtpec8);
  EXPECT_EQ(f.accelerated, 0);
  EXPECT_EQ(f.float_ops.size(), test_graph().ops.size());
  for (const quant::OpPlacement& p : f.ops) {
    ASSERT_FALSE(p.reasons.empty());
    EXPECT_NE(p.reasons[0].find("float tensors"), std::string::npos);
  }
  EXPECT_TRUE(quant::check_target(test_graph(), quant::Target::kCpu).all_accelerated());
}

TEST(QuantTargets, Artpec9And7Rules) {
  GraphBuilder b;
  const int in = b.tensor("in", {1, 8, 8, 4});
  const int w = b.tensor("w", {4, 4, 4, 4});
  const int mid = b.tensor("mid", {1, 8, 8, 4});
  const int pads = b.int_constant("pads", {4, 2}, {0, 0, 0, 0, 0, 0, 2, 2});
  const int padded = b.tensor("padded", {1, 8, 8, 8});
  const int out = b.tensor("out", {1, 8, 8, 8});
  Graph& g = b.graph();
  for (Tensor& t : g.tensors) {
    if (t.type == DType::kFloat32) {
      t.type = DType::kInt8;
      t.quant = {{0.1f}, {0}, 0};
    }
  }
  g.tensors[static_cast<size_t>(w)].is_constant = true;
  g.allocate_constant(g.tensors[static_cast<size_t>(w)]);
  b.op(OpCode::kConv2D, {in, w}, {mid}, Conv2DOptions{});
  b.op(OpCode::kPad, {mid, pads}, {padded});
  b.op(OpCode::kRelu, {padded}, {out});
  g.inputs = {in};
  g.outputs = {out};
  const quant::TargetReport a9 = quant::check_target(g, quant::Target::kArtpec9);
  EXPECT_FALSE(a9.ops[0].accelerated);  // 4x4 kernel
  EXPECT_NE(a9.ops[0].reasons[0].find("4x4 kernel"), std::string::npos);
  EXPECT_FALSE(a9.ops[1].accelerated);  // pads channels
  EXPECT_TRUE(a9.ops[2].accelerated);
  const quant::TargetReport a7 = quant::check_target(g, quant::Target::kArtpec7);
  EXPECT_TRUE(a7.ops[0].accelerated);
  EXPECT_FALSE(a7.ops[1].accelerated);  // channel padding
  EXPECT_FALSE(a7.ops[2].accelerated);  // after the first CPU op
  EXPECT_NE(a7.ops[2].reasons[0].find("first unsupported op"), std::string::npos);
  const std::string json = quant::target_report_json(a7, "m");
  EXPECT_NE(json.find("\"all_accelerated\": false"), std::string::npos);
  EXPECT_EQ(quant::parse_target("artpec8"), quant::Target::kArtpec8);
  EXPECT_THROW(quant::parse_target("artpec6"), Error);
}

TEST(QuantMetrics, ErrorsAndDetectionMatching) {
  quant::ErrorAccumulator same;
  const std::vector<float> a = {1, 2, 3}, b = {1, 2, 3.5f};
  same.add(a.data(), a.data(), 3);
  EXPECT_TRUE(std::isinf(same.result().snr_db));
  quant::ErrorAccumulator diff;
  diff.add(a.data(), b.data(), 3);
  EXPECT_NEAR(diff.result().snr_db, 10 * std::log10(14.0 / 0.25), 1e-9);
  EXPECT_FLOAT_EQ(static_cast<float>(diff.result().max_abs_error), 0.5f);
  vision::Detection d1, d2, d3;
  d1.box = {0, 0, 10, 10};
  d2.box = {1, 1, 11, 11};  // IoU 81/119
  d3.box = {20, 20, 30, 30};
  const quant::DetectionMatch m = quant::match_detections({d1, d3}, {d2});
  EXPECT_EQ(m.reference, 2);
  EXPECT_EQ(m.found, 1);
  EXPECT_NEAR(m.mean_iou, 81.0 / 119.0, 1e-6);
}

quant::ComparisonReport report(std::vector<double> snrs, std::optional<quant::DetectionMatch> detections = {},
                               std::optional<double> mask_iou = {}) {
  quant::ComparisonReport r;
  for (double snr : snrs) {
    quant::OutputReport o;
    o.name = fmt::format("out{}", r.outputs.size());
    o.metrics.snr_db = snr;
    r.outputs.push_back(o);
  }
  r.detections = detections;
  r.mask_iou = mask_iou;
  return r;
}

// --method auto's order: detections found, then fewer other detections (or
// the mask IoU), then the mean SNR, then the boxes' IoU.
TEST(QuantMetrics, MoreAccurateOrdersByTheTaskFirst) {
  const auto found = [](int found, int test, double iou) {
    return quant::DetectionMatch{2, found, test, iou};
  };
  EXPECT_TRUE(quant::more_accurate(report({5, 5}, found(2, 2, 0.7)), report({20, 20}, found(1, 1, 0.9))));
  EXPECT_TRUE(quant::more_accurate(report({5, 5}, found(2, 2, 0.7)), report({20, 20}, found(2, 5, 0.9))));
  EXPECT_TRUE(quant::more_accurate(report({19, 13}, found(2, 2, 0.75)), report({16, 9}, found(2, 2, 0.76))));
  EXPECT_TRUE(quant::more_accurate(report({16, 9}, found(2, 2, 0.76)), report({16, 9}, found(2, 2, 0.75))));
  EXPECT_FALSE(quant::more_accurate(report({16, 9}, found(2, 2, 0.75)), report({16, 9}, found(2, 2, 0.75))));
  EXPECT_TRUE(quant::more_accurate(report({4}, {}, 0.72), report({11}, {}, 0.68)));
  // An exact output (+inf dB) counts as a high finite SNR, not as a NaN mean.
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(quant::more_accurate(report({inf, 10}), report({40, 40})));
  EXPECT_EQ(quant::summarize_accuracy(report({16.44, inf}, found(1, 1, 0.9641))),
            "SNR 16.4, inf dB; 1 of 2 detections found (IoU 0.964), 1 quantized");
  EXPECT_EQ(quant::summarize_accuracy(report({13.04}, {}, 0.72318)), "SNR 13.0 dB; mask IoU 0.7232");
}

}  // namespace
}  // namespace osprey
