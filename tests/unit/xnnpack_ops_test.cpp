// Single ops on the XNNPACK backend against the reference kernels, through
// the Interpreter on tiny .tflite models: odd sizes, SAME/VALID padding,
// strides, dilations, depth multipliers, broadcasting, fused activations, and
// the cases XNNPACK cannot express exactly (which must stay on the reference
// kernels and still give the reference's answer).
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include "backends/avx512/avx512_backend.h"
#include "backends/avx512/depthwise_conv.h"
#include "backends/avx512/sparse_conv.h"
#include "backends/backend.h"
#include "backends/thread_pool.h"
#include "backends/xnnpack/xnnpack_delegate.h"
#include "io/random_fill.h"
#include "model/tflite_schema_generated.h"
#include "runtime/interpreter.h"

namespace osprey {
namespace {

using fb = flatbuffers::FlatBufferBuilder;
using OptionsFn = std::function<std::pair<tfl::BuiltinOptions, flatbuffers::Offset<void>>(fb&)>;

// A one-subgraph .tflite written with the schema's own builders.
class TinyModel {
 public:
  // An activation tensor (no data); it becomes a model input if no op writes it.
  int activation(std::vector<int32_t> shape) { return add(std::move(shape), tfl::TensorType::FLOAT32, {}); }
  int constant(std::vector<int32_t> shape, const std::vector<float>& values) {
    return add(std::move(shape), tfl::TensorType::FLOAT32, bytes_of(values));
  }
  // A constant of seeded random values in [-1, 1].
  int random_constant(std::vector<int32_t> shape) {
    int64_t n = 1;
    for (int32_t d : shape) n *= d;
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> values(static_cast<size_t>(n));
    for (float& v : values) v = dist(rng_);
    return constant(std::move(shape), values);
  }
  // Random values with about `zeros` of them exactly zero, scattered.
  int sparse_constant(std::vector<int32_t> shape, double zeros) {
    int64_t n = 1;
    for (int32_t d : shape) n *= d;
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::bernoulli_distribution zero(zeros);
    std::vector<float> values(static_cast<size_t>(n));
    for (float& v : values) v = zero(rng_) ? 0.0f : dist(rng_);
    return constant(std::move(shape), values);
  }
  int int_constant(std::vector<int32_t> shape, const std::vector<int32_t>& values) {
    return add(std::move(shape), tfl::TensorType::INT32, bytes_of(values));
  }

  void op(tfl::BuiltinOperator code, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
          OptionsFn options = nullptr) {
    ops_.push_back(
        {static_cast<int32_t>(code), "", std::move(inputs), std::move(outputs), std::move(options), {}});
  }
  void custom_op(const std::string& name, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                 std::vector<uint8_t> custom_options) {
    ops_.push_back({static_cast<int32_t>(tfl::BuiltinOperator::CUSTOM), name, std::move(inputs),
                    std::move(outputs), nullptr, std::move(custom_options)});
  }
  void output(int t) { outputs_.push_back(t); }

  std::vector<uint8_t> finish() {
    fb b;
    std::vector<flatbuffers::Offset<tfl::Buffer>> buffers{tfl::CreateBuffer(b)};
    std::vector<flatbuffers::Offset<tfl::Tensor>> tensors;
    for (const TensorDef& t : tensors_) {
      uint32_t buffer = 0;
      if (!t.data.empty()) {
        b.ForceVectorAlignment(t.data.size(), 1, 16);
        buffers.push_back(tfl::CreateBuffer(b, b.CreateVector(t.data)));
        buffer = static_cast<uint32_t>(buffers.size() - 1);
      }
      tensors.push_back(tfl::CreateTensor(b, b.CreateVector(t.shape), t.type, buffer,
                                          b.CreateString("t" + std::to_string(tensors.size()))));
    }
    std::vector<flatbuffers::Offset<tfl::OperatorCode>> codes;
    std::vector<flatbuffers::Offset<tfl::Operator>> ops;
    std::vector<bool> written(tensors_.size(), false);
    for (const OpDef& op : ops_) {
      const auto deprecated = static_cast<int8_t>(std::min(op.code, 127));
      codes.push_back(tfl::CreateOperatorCode(b, deprecated,
                                              op.custom.empty() ? 0 : b.CreateString(op.custom), 1,
                                              static_cast<tfl::BuiltinOperator>(op.code)));
      auto options =
          op.options ? op.options(b) : std::make_pair(tfl::BuiltinOptions::NONE, flatbuffers::Offset<void>());
      ops.push_back(tfl::CreateOperator(b, static_cast<uint32_t>(codes.size() - 1), b.CreateVector(op.inputs),
                                        b.CreateVector(op.outputs), options.first, options.second,
                                        op.custom_options.empty() ? 0 : b.CreateVector(op.custom_options)));
      for (int t : op.outputs) written[static_cast<size_t>(t)] = true;
    }
    std::vector<int32_t> inputs;
    for (size_t t = 0; t < tensors_.size(); ++t) {
      if (!written[t] && tensors_[t].data.empty()) inputs.push_back(static_cast<int32_t>(t));
    }
    auto subgraph =
        tfl::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(inputs), b.CreateVector(outputs_),
                            b.CreateVector(ops), b.CreateString("main"));
    auto model = tfl::CreateModel(b, 3, b.CreateVector(codes), b.CreateVector(std::vector{subgraph}),
                                  b.CreateString("xnnpack op test"), b.CreateVector(buffers));
    tfl::FinishModelBuffer(b, model);
    return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  }

 private:
  struct TensorDef {
    std::vector<int32_t> shape;
    tfl::TensorType type;
    std::vector<uint8_t> data;
  };
  struct OpDef {
    int32_t code;
    std::string custom;
    std::vector<int32_t> inputs, outputs;
    OptionsFn options;
    std::vector<uint8_t> custom_options;
  };

  template <typename T>
  static std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    return std::vector<uint8_t>(p, p + v.size() * sizeof(T));
  }
  int add(std::vector<int32_t> shape, tfl::TensorType type, std::vector<uint8_t> data) {
    tensors_.push_back({std::move(shape), type, std::move(data)});
    return static_cast<int>(tensors_.size()) - 1;
  }

  std::vector<TensorDef> tensors_;
  std::vector<OpDef> ops_;
  std::vector<int32_t> outputs_;
  std::mt19937 rng_{7};
};

enum class Tolerance {
  kElementwise,  // |x - ref| <= 3e-6 |ref| per element (plus a denormal-sized floor)
  kAccumulated,  // max |x - ref| <= 1e-5 max(1, max |ref|): sums taken in another order
};

enum class Expect { kDelegated, kReference, kMixed };

// Runs the model on the reference kernels and on XNNPACK with the same
// seeded inputs and compares every output.
void check_model(const std::vector<uint8_t>& bytes, Tolerance tol, Expect expect = Expect::kDelegated) {
  auto ref = Interpreter::from_buffer(bytes, "ref");
  // One XNNPACK runtime per op on 1 and 2 threads, one per run of ops.
  for (auto [threads, ops_per_runtime] : {std::pair{1, 1}, {2, 1}, {1, 0}}) {
    SCOPED_TRACE(fmt::format("{} thread(s), {} op(s) per runtime", threads, ops_per_runtime));
    XnnpackOptions xo;
    xo.threads = threads;
    xo.max_ops_per_runtime = ops_per_runtime;
    // The default stack: osprey's AVX-512 kernels first, XNNPACK for the rest.
    const auto pool = make_thread_pool(threads);
    Avx512Backend avx512(pool);
    XnnpackDelegate backend(xo, pool);
    InterpreterOptions options;
    options.backends = {&avx512, &backend};
    auto xnn = Interpreter::from_buffer(bytes, "xnnpack", options);
    // Reshapes alone in a runtime are left to the reference kernels (a copy either way).
    const bool all_delegated =
        std::all_of(xnn->plan_info().begin(), xnn->plan_info().end(), [](const OpInfo& info) {
          return info.index < 0 || info.name == "RESHAPE" || info.name == "SQUEEZE" ||
                 info.name == "EXPAND_DIMS";
        });
    const bool none_delegated = std::none_of(xnn->plan_info().begin(), xnn->plan_info().end(),
                                             [](const OpInfo& info) { return info.index < 0; });
    if (expect == Expect::kDelegated) {
      EXPECT_TRUE(all_delegated) << "expected every op on XNNPACK";
    } else if (expect == Expect::kMixed) {
      EXPECT_TRUE(!all_delegated && !none_delegated) << "expected ops on both backends";
    } else {
      EXPECT_TRUE(none_delegated) << "expected the op on the reference kernels";
    }

    ASSERT_EQ(ref->num_inputs(), xnn->num_inputs());
    // Twice: the second run reuses the pointers bound on the first. Inputs are
    // filled again each time (the arena may reuse an input's bytes once read).
    for (int run = 0; run < 2; ++run) {
      std::mt19937 rng_ref(42 + run), rng_xnn(42 + run);
      for (int i = 0; i < ref->num_inputs(); ++i) {
        fill_random(ref->input(i), rng_ref);
        fill_random(xnn->input(i), rng_xnn);
      }
      ref->invoke();
      xnn->invoke();
    }
    for (int o = 0; o < ref->num_outputs(); ++o) {
      const Tensor& a = ref->output(o);
      const Tensor& b = xnn->output(o);
      ASSERT_EQ(a.shape, b.shape);
      const float* x = a.data_as<float>();
      const float* y = b.data_as<float>();
      double max_ref = 0, max_diff = 0;
      for (int64_t k = 0; k < a.num_elements(); ++k) {
        max_ref = std::max(max_ref, static_cast<double>(std::fabs(x[k])));
        max_diff = std::max(max_diff, static_cast<double>(std::fabs(x[k] - y[k])));
        if (tol == Tolerance::kElementwise) {
          ASSERT_LE(std::fabs(x[k] - y[k]), 3e-6 * std::fabs(x[k]) + 1e-30)
              << "output " << o << " element " << k << ": ref " << x[k] << " xnnpack " << y[k];
        }
      }
      EXPECT_LE(max_diff, 1e-5 * std::max(1.0, max_ref)) << "output " << o;
    }
  }
}

// ---------------------------------------------------------------------------
// Convolutions.

struct ConvCase {
  std::vector<int32_t> input;  // NHWC
  int cout, kh, kw;
  tfl::Padding padding;
  int stride_h, stride_w, dilation_h = 1, dilation_w = 1;
  tfl::ActivationFunctionType activation = tfl::ActivationFunctionType::NONE;
  bool bias = true;
  int groups = 1;
};

std::vector<uint8_t> conv_model(const ConvCase& c) {
  TinyModel m;
  const int in = m.activation(c.input);
  const int w = m.random_constant({c.cout, c.kh, c.kw, c.input[3] / c.groups});
  std::vector<int32_t> inputs{in, w};
  if (c.bias) inputs.push_back(m.random_constant({c.cout}));
  const int out = m.activation({1, 1, 1, c.cout});  // shape comes from prepare
  m.op(tfl::BuiltinOperator::CONV_2D, inputs, {out}, [c](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                          tfl::CreateConv2DOptions(b, c.padding, c.stride_w, c.stride_h, c.activation,
                                                   c.dilation_w, c.dilation_h)
                              .Union());
  });
  m.output(out);
  return m.finish();
}

TEST(XnnpackOps, ConvSameAndValidOddSizes) {
  using P = tfl::Padding;
  for (const ConvCase& c : std::vector<ConvCase>{
           {{1, 7, 9, 3}, 5, 3, 3, P::SAME, 1, 1},
           {{1, 7, 9, 3}, 5, 3, 3, P::VALID, 1, 1},
           {{1, 7, 9, 3}, 4, 3, 3, P::SAME, 2, 2},
           {{1, 8, 8, 3}, 4, 3, 3, P::SAME, 2, 2},
           {{1, 7, 9, 3}, 4, 3, 3, P::VALID, 2, 2},
           {{1, 11, 6, 2}, 3, 5, 2, P::SAME, 2, 1},
           {{1, 11, 6, 2}, 3, 2, 5, P::VALID, 1, 3},
           {{2, 5, 5, 4}, 6, 1, 1, P::VALID, 1, 1},
           {{1, 13, 13, 17}, 19, 3, 3, P::SAME, 1, 1},
           {{1, 12, 10, 3}, 4, 3, 3, P::SAME, 1, 1, 2, 2},
           {{1, 12, 10, 3}, 4, 3, 2, P::VALID, 1, 1, 2, 3},
       }) {
    SCOPED_TRACE(fmt::format("input {} filter {}x{}x{} stride {}x{} dilation {}x{} {}",
                             fmt::join(c.input, "x"), c.cout, c.kh, c.kw, c.stride_h, c.stride_w,
                             c.dilation_h, c.dilation_w, c.padding == P::SAME ? "SAME" : "VALID"));
    check_model(conv_model(c), Tolerance::kAccumulated);
  }
}

TEST(XnnpackOps, ConvActivationsBiasAndGroups) {
  using A = tfl::ActivationFunctionType;
  for (A a : {A::RELU, A::RELU6, A::RELU_N1_TO_1}) {
    check_model(conv_model({{1, 6, 6, 4}, 8, 3, 3, tfl::Padding::SAME, 1, 1, 1, 1, a}),
                Tolerance::kAccumulated);
  }
  check_model(conv_model({{1, 6, 6, 4}, 8, 3, 3, tfl::Padding::SAME, 1, 1, 1, 1, A::NONE, false}),
              Tolerance::kAccumulated);
  // Grouped: 8 input channels in 2 groups of 4, 6 filters.
  check_model(conv_model({{1, 6, 7, 8}, 6, 3, 3, tfl::Padding::SAME, 1, 1, 1, 1, A::NONE, true, 2}),
              Tolerance::kAccumulated);
}

TEST(XnnpackOps, SparseOneByOneConv) {
  // 1x1 convolutions with mostly-zero weights run on osprey's sparse kernel
  // (where the CPU has AVX-512): channel counts around the 16-lane blocks,
  // pixel counts around the 32-pixel tiles.
  struct Case {
    std::vector<int32_t> input;
    int cout;
    double zeros;
    bool bias;
    tfl::ActivationFunctionType activation;
  };
  using A = tfl::ActivationFunctionType;
  for (const Case& c : std::vector<Case>{{{1, 7, 7, 40}, 24, 0.75, true, A::NONE},
                                         {{1, 1, 5, 17}, 33, 0.6, false, A::RELU6},
                                         {{2, 3, 5, 64}, 16, 0.75, true, A::RELU},
                                         {{1, 8, 4, 3}, 5, 0.7, true, A::NONE},
                                         {{1, 9, 9, 130}, 70, 0.9, true, A::RELU_N1_TO_1},
                                         {{1, 4, 4, 32}, 32, 1.0, true, A::NONE}}) {
    TinyModel m;
    const int in = m.activation(c.input);
    std::vector<int32_t> inputs{in, m.sparse_constant({c.cout, 1, 1, c.input[3]}, c.zeros)};
    if (c.bias) inputs.push_back(m.random_constant({c.cout}));
    const int out = m.activation({1, 1, 1, c.cout});
    m.op(tfl::BuiltinOperator::CONV_2D, inputs, {out}, [c](fb& b) {
      return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                            tfl::CreateConv2DOptions(b, tfl::Padding::SAME, 1, 1, c.activation).Union());
    });
    m.output(out);
    const std::vector<uint8_t> bytes = m.finish();
    SCOPED_TRACE(fmt::format("input {} cout {} zeros {}", fmt::join(c.input, "x"), c.cout, c.zeros));
    if (sparse_conv_supported()) {
      const BackendStack backends = make_backends(kDefaultBackend, 1);
      const InterpreterOptions options = backends.options();
      auto xnn = Interpreter::from_buffer(bytes, "sparse", options);
      ASSERT_EQ(xnn->plan_info().size(), 1u);
      EXPECT_EQ(xnn->plan_info()[0].name, "OSPREY-SPARSE(CONV_2D #0)");
    }
    check_model(bytes, Tolerance::kAccumulated);
  }
}

TEST(XnnpackOps, ConvWithComputedFilterStaysOnReference) {
  // XNNPACK packs filters when the model loads: one computed at run time cannot go.
  TinyModel m;
  const int in = m.activation({1, 5, 5, 2});
  const int filter = m.activation({3, 3, 3, 2});
  const int out = m.activation({1, 5, 5, 3});
  m.op(tfl::BuiltinOperator::CONV_2D, {in, filter}, {out}, [](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                          tfl::CreateConv2DOptions(b, tfl::Padding::SAME, 1, 1).Union());
  });
  m.output(out);
  check_model(m.finish(), Tolerance::kElementwise, Expect::kReference);
}

struct DepthwiseCase {
  std::vector<int32_t> input;
  int multiplier, kh, kw;
  tfl::Padding padding;
  int stride_h, stride_w, dilation = 1;
  bool bias = true;
};

std::vector<uint8_t> depthwise_model(const DepthwiseCase& c) {
  TinyModel m;
  const int in = m.activation(c.input);
  const int cout = c.input[3] * c.multiplier;
  const int w = m.random_constant({1, c.kh, c.kw, cout});
  std::vector<int32_t> inputs{in, w};
  if (c.bias) inputs.push_back(m.random_constant({cout}));
  const int out = m.activation({1, 1, 1, cout});
  m.op(tfl::BuiltinOperator::DEPTHWISE_CONV_2D, inputs, {out}, [c](fb& b) {
    return std::make_pair(
        tfl::BuiltinOptions::DepthwiseConv2DOptions,
        tfl::CreateDepthwiseConv2DOptions(b, c.padding, c.stride_w, c.stride_h, c.multiplier,
                                          tfl::ActivationFunctionType::RELU6, c.dilation, c.dilation)
            .Union());
  });
  m.output(out);
  return m.finish();
}

TEST(XnnpackOps, DepthwiseMultipliersStridesPadding) {
  using P = tfl::Padding;
  for (const DepthwiseCase& c : std::vector<DepthwiseCase>{
           {{1, 7, 9, 5}, 1, 3, 3, P::SAME, 1, 1},
           {{1, 7, 9, 5}, 2, 3, 3, P::SAME, 2, 2},
           {{1, 8, 8, 3}, 3, 5, 5, P::SAME, 2, 2},
           {{1, 9, 7, 4}, 1, 3, 3, P::VALID, 2, 1},
           {{1, 9, 7, 1}, 4, 2, 3, P::VALID, 1, 1},
           {{1, 12, 12, 6}, 1, 3, 3, P::SAME, 1, 1, 2},
           {{1, 6, 6, 24}, 1, 3, 3, P::SAME, 1, 1, 1, false},
       }) {
    SCOPED_TRACE(fmt::format("input {} x{} {}x{} stride {}x{} dilation {}", fmt::join(c.input, "x"),
                             c.multiplier, c.kh, c.kw, c.stride_h, c.stride_w, c.dilation));
    check_model(depthwise_model(c), Tolerance::kAccumulated);
  }
}

TEST(XnnpackOps, OwnDepthwiseKernel) {
  // 3x3/5x5, stride 1/2, multiplier 1: osprey's AVX-512 kernel (where the CPU
  // has it). Rows wider than the 8-pixel tiles, channels beyond 16-lane blocks.
  using P = tfl::Padding;
  for (const DepthwiseCase& c : std::vector<DepthwiseCase>{
           {{1, 9, 21, 40}, 1, 5, 5, P::SAME, 1, 1},
           {{1, 9, 21, 40}, 1, 5, 5, P::SAME, 2, 2},
           {{2, 14, 14, 16}, 1, 3, 3, P::SAME, 2, 2},
           {{1, 13, 11, 33}, 1, 3, 3, P::VALID, 1, 1},
           {{1, 13, 11, 7}, 1, 5, 5, P::VALID, 2, 2},
           {{1, 3, 2, 20}, 1, 5, 5, P::SAME, 1, 1},
       }) {
    SCOPED_TRACE(fmt::format("input {} {}x{} stride {}", fmt::join(c.input, "x"), c.kh, c.kw, c.stride_h));
    const std::vector<uint8_t> bytes = depthwise_model(c);
    if (depthwise_conv_supported(c.kh, c.stride_h)) {
      const BackendStack backends = make_backends(kDefaultBackend, 1);
      const InterpreterOptions options = backends.options();
      auto xnn = Interpreter::from_buffer(bytes, "dw", options);
      ASSERT_EQ(xnn->plan_info().size(), 1u);
      EXPECT_EQ(xnn->plan_info()[0].name, "OSPREY(DEPTHWISE_CONV_2D #0)");
    }
    check_model(bytes, Tolerance::kAccumulated);
  }
  // A PAD of height and width before it becomes its padding (asymmetric here).
  TinyModel m;
  const int in = m.activation({1, 10, 9, 24});
  const int padded = m.activation({1, 13, 11, 24});
  m.op(tfl::BuiltinOperator::PAD, {in, m.int_constant({4, 2}, {0, 0, 2, 1, 0, 2, 0, 0})}, {padded});
  const int out = m.activation({1, 6, 5, 24});
  m.op(tfl::BuiltinOperator::DEPTHWISE_CONV_2D,
       {padded, m.random_constant({1, 3, 3, 24}), m.random_constant({24})}, {out}, [](fb& b) {
         return std::make_pair(tfl::BuiltinOptions::DepthwiseConv2DOptions,
                               tfl::CreateDepthwiseConv2DOptions(b, tfl::Padding::VALID, 2, 2, 1).Union());
       });
  m.output(out);
  const std::vector<uint8_t> bytes = m.finish();
  if (depthwise_conv_supported(3, 2)) {
    const BackendStack backends = make_backends(kDefaultBackend, 1);
    const InterpreterOptions options = backends.options();
    auto xnn = Interpreter::from_buffer(bytes, "pad+dw", options);
    ASSERT_EQ(xnn->plan_info().size(), 1u);
    EXPECT_EQ(xnn->plan_info()[0].name, "OSPREY(PAD #0 + DEPTHWISE_CONV_2D #1)");
  }
  check_model(bytes, Tolerance::kAccumulated);

  // A RELU6 after it becomes part of its clamp.
  TinyModel r;
  const int rin = r.activation({1, 12, 11, 20});
  const int conv = r.activation({1, 12, 11, 20});
  r.op(tfl::BuiltinOperator::DEPTHWISE_CONV_2D, {rin, r.random_constant({1, 5, 5, 20})}, {conv}, [](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::DepthwiseConv2DOptions,
                          tfl::CreateDepthwiseConv2DOptions(b, tfl::Padding::SAME, 1, 1, 1,
                                                            tfl::ActivationFunctionType::RELU_N1_TO_1)
                              .Union());
  });
  const int relu = r.activation({1, 12, 11, 20});
  r.op(tfl::BuiltinOperator::RELU6, {conv}, {relu});
  r.output(relu);
  const std::vector<uint8_t> clamped = r.finish();
  if (depthwise_conv_supported(5, 1)) {
    const BackendStack backends = make_backends(kDefaultBackend, 1);
    const InterpreterOptions options = backends.options();
    auto xnn = Interpreter::from_buffer(clamped, "dw+relu6", options);
    ASSERT_EQ(xnn->plan_info().size(), 1u);
    EXPECT_EQ(xnn->plan_info()[0].name, "OSPREY(DEPTHWISE_CONV_2D #0 + RELU6 #1)");
  }
  check_model(clamped, Tolerance::kAccumulated);
}

std::vector<uint8_t> transpose_conv_model(std::vector<int32_t> input, int cout, int k, int stride,
                                          tfl::Padding padding, std::vector<int32_t> output_shape,
                                          bool bias) {
  TinyModel m;
  const int shape = m.int_constant({4}, output_shape);
  const int w = m.random_constant({cout, k, k, input[3]});
  const int in = m.activation(input);
  std::vector<int32_t> inputs{shape, w, in};
  if (bias) inputs.push_back(m.random_constant({cout}));
  const int out = m.activation(output_shape);
  m.op(tfl::BuiltinOperator::TRANSPOSE_CONV, inputs, {out}, [=](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::TransposeConvOptions,
                          tfl::CreateTransposeConvOptions(b, padding, stride, stride).Union());
  });
  m.output(out);
  return m.finish();
}

TEST(XnnpackOps, TransposeConv) {
  using P = tfl::Padding;
  check_model(transpose_conv_model({1, 4, 5, 3}, 6, 3, 2, P::SAME, {1, 8, 10, 6}, true),
              Tolerance::kAccumulated);
  check_model(transpose_conv_model({1, 4, 5, 3}, 6, 3, 2, P::SAME, {1, 7, 9, 6}, false),
              Tolerance::kAccumulated);
  check_model(transpose_conv_model({1, 4, 5, 3}, 2, 3, 2, P::VALID, {1, 9, 11, 2}, true),
              Tolerance::kAccumulated);
  check_model(transpose_conv_model({1, 4, 4, 3}, 2, 4, 2, P::SAME, {1, 8, 8, 2}, true),
              Tolerance::kAccumulated);
  check_model(transpose_conv_model({1, 3, 3, 2}, 2, 2, 3, P::VALID, {1, 9, 9, 2}, true),
              Tolerance::kAccumulated);
}

TEST(XnnpackOps, MediaPipeTransposeConvBias) {
  for (int padding : {1, 2}) {
    TinyModel m;
    const int in = m.activation({1, 5, 6, 4});
    const int w = m.random_constant({3, 4, 4, 4});
    const int bias = m.random_constant({3});
    const int out = m.activation({1, 1, 1, 3});
    std::vector<uint8_t> options(12, 0);
    const int32_t values[3] = {padding, 2, 2};
    std::memcpy(options.data(), values, sizeof(values));
    m.custom_op("Convolution2DTransposeBias", {in, w, bias}, {out}, options);
    m.output(out);
    SCOPED_TRACE(padding == 1 ? "SAME" : "VALID");
    check_model(m.finish(), Tolerance::kAccumulated);
  }
}

// ---------------------------------------------------------------------------
// Fully connected.

TEST(XnnpackOps, FullyConnected) {
  struct Case {
    std::vector<int32_t> input;
    int units;
    bool keep_dims, bias;
  };
  for (const Case& c : std::vector<Case>{{{3, 10}, 7, false, true},
                                         {{1, 2, 2, 6}, 5, false, true},  // flattened to [4, 6]
                                         {{2, 3, 6}, 4, true, false},
                                         {{1, 33}, 17, false, false}}) {
    TinyModel m;
    const int in = m.activation(c.input);
    const int w = m.random_constant({c.units, c.input.back()});
    std::vector<int32_t> inputs{in, w};
    if (c.bias) inputs.push_back(m.random_constant({c.units}));
    const int out = m.activation({1, c.units});
    m.op(tfl::BuiltinOperator::FULLY_CONNECTED, inputs, {out}, [c](fb& b) {
      return std::make_pair(
          tfl::BuiltinOptions::FullyConnectedOptions,
          tfl::CreateFullyConnectedOptions(b, tfl::ActivationFunctionType::RELU,
                                           tfl::FullyConnectedOptionsWeightsFormat::DEFAULT, c.keep_dims)
              .Union());
    });
    m.output(out);
    SCOPED_TRACE(fmt::format("input {} keep_dims {}", fmt::join(c.input, "x"), c.keep_dims));
    check_model(m.finish(), Tolerance::kAccumulated);
  }
}

// ---------------------------------------------------------------------------
// Elementwise.

OptionsFn binary_options(tfl::BuiltinOperator code, tfl::ActivationFunctionType a) {
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
      TinyModel m;
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
                                 OptionsFn options = nullptr) {
  TinyModel m;
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
    TinyModel m;
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
    TinyModel m;
    const int in = m.activation({1, 5, 4, 6});
    const int alpha = m.random_constant(alpha_shape);
    const int out = m.activation({1, 5, 4, 6});
    m.op(tfl::BuiltinOperator::PRELU, {in, alpha}, {out});
    m.output(out);
    SCOPED_TRACE(fmt::format("alpha {}", fmt::join(alpha_shape, "x")));
    check_model(m.finish(), Tolerance::kElementwise);
  }
  // A slope varying over space is not per channel: reference kernels.
  TinyModel m;
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

// ---------------------------------------------------------------------------
// Pooling and reductions.

std::vector<uint8_t> pool_model(tfl::BuiltinOperator code, std::vector<int32_t> input, int fh, int fw, int sh,
                                int sw, tfl::Padding padding) {
  TinyModel m;
  const int in = m.activation(input);
  const int out = m.activation({1, 1, 1, input[3]});
  m.op(code, {in}, {out}, [=](fb& b) {
    return std::make_pair(
        tfl::BuiltinOptions::Pool2DOptions,
        tfl::CreatePool2DOptions(b, padding, sw, sh, fw, fh, tfl::ActivationFunctionType::RELU).Union());
  });
  m.output(out);
  return m.finish();
}

TEST(XnnpackOps, Pooling) {
  using O = tfl::BuiltinOperator;
  using P = tfl::Padding;
  for (O code : {O::MAX_POOL_2D, O::AVERAGE_POOL_2D}) {
    struct Case {
      std::vector<int32_t> input;
      int fh, fw, sh, sw;
      P padding;
    };
    for (const Case& c : std::vector<Case>{{{1, 7, 9, 3}, 3, 3, 2, 2, P::SAME},
                                           {{1, 7, 9, 3}, 3, 3, 2, 2, P::VALID},
                                           {{1, 8, 8, 5}, 2, 2, 2, 2, P::SAME},
                                           {{2, 6, 5, 4}, 3, 2, 1, 1, P::SAME},
                                           {{1, 9, 9, 3}, 5, 5, 3, 3, P::SAME},
                                           {{1, 6, 6, 3}, 1, 1, 1, 1, P::SAME}}) {
      SCOPED_TRACE(fmt::format("{} input {} window {}x{} stride {}x{}", tfl::EnumNameBuiltinOperator(code),
                               fmt::join(c.input, "x"), c.fh, c.fw, c.sh, c.sw));
      check_model(pool_model(code, c.input, c.fh, c.fw, c.sh, c.sw, c.padding), Tolerance::kAccumulated);
    }
  }
  // Windows that skip input (stride above the window) stay on the reference kernels.
  check_model(pool_model(O::MAX_POOL_2D, {1, 9, 9, 2}, 2, 2, 3, 3, P::VALID), Tolerance::kElementwise,
              Expect::kReference);
}

std::vector<uint8_t> mean_model(std::vector<int32_t> input, std::vector<int32_t> axes, bool keep_dims) {
  TinyModel m;
  const int in = m.activation(input);
  const int a = m.int_constant({static_cast<int32_t>(axes.size())}, axes);
  const int out = m.activation({1});
  m.op(tfl::BuiltinOperator::MEAN, {in, a}, {out}, [keep_dims](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::ReducerOptions,
                          tfl::CreateReducerOptions(b, keep_dims).Union());
  });
  m.output(out);
  return m.finish();
}

TEST(XnnpackOps, MeanOverHeightAndWidth) {
  check_model(mean_model({1, 7, 5, 6}, {1, 2}, true), Tolerance::kAccumulated);
  check_model(mean_model({2, 7, 5, 6}, {2, 1}, false), Tolerance::kAccumulated);
  check_model(mean_model({1, 7, 5, 6}, {-3, -2}, false), Tolerance::kAccumulated);
  check_model(mean_model({1, 7, 5, 6}, {1}, true), Tolerance::kAccumulated, Expect::kReference);
}

// ---------------------------------------------------------------------------
// Layout.

TEST(XnnpackOps, PadAndPadV2) {
  TinyModel m;
  const int in = m.activation({1, 5, 6, 3});
  const int pads = m.int_constant({4, 2}, {0, 0, 1, 2, 3, 0, 0, 1});
  const int out = m.activation({1, 8, 9, 4});
  m.op(tfl::BuiltinOperator::PAD, {in, pads}, {out});
  m.output(out);
  check_model(m.finish(), Tolerance::kElementwise);

  TinyModel v2;
  const int in2 = v2.activation({2, 3, 4});
  const int pads2 = v2.int_constant({3, 2}, {1, 0, 0, 2, 2, 1});
  const int value = v2.constant({}, {-0.75f});
  const int out2 = v2.activation({3, 5, 7});
  v2.op(tfl::BuiltinOperator::PADV2, {in2, pads2, value}, {out2});
  v2.output(out2);
  check_model(v2.finish(), Tolerance::kElementwise);
}

TEST(XnnpackOps, ReshapeBetweenOps) {
  // conv -> reshape -> fully connected, one XNNPACK run.
  TinyModel m;
  const int in = m.activation({1, 4, 4, 3});
  const int conv = m.activation({1, 4, 4, 5});
  m.op(tfl::BuiltinOperator::CONV_2D, {in, m.random_constant({5, 3, 3, 3}), m.random_constant({5})}, {conv},
       [](fb& b) {
         return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                               tfl::CreateConv2DOptions(b, tfl::Padding::SAME, 1, 1).Union());
       });
  const int flat = m.activation({1, 80});
  m.op(tfl::BuiltinOperator::RESHAPE, {conv, m.int_constant({2}, {1, 80})}, {flat});
  const int fc = m.activation({1, 6});
  m.op(tfl::BuiltinOperator::FULLY_CONNECTED, {flat, m.random_constant({6, 80})}, {fc});
  const int squeezed = m.activation({6});
  m.op(tfl::BuiltinOperator::SQUEEZE, {fc}, {squeezed});
  m.output(squeezed);
  check_model(m.finish(), Tolerance::kAccumulated);
}

TEST(XnnpackOps, ResizeBilinear) {
  struct Case {
    std::vector<int32_t> input;
    int32_t h, w;
    bool align_corners, half_pixel;
  };
  for (const Case& c : std::vector<Case>{{{1, 4, 5, 3}, 8, 10, false, false},
                                         {{1, 4, 5, 3}, 8, 10, false, true},
                                         {{1, 4, 5, 3}, 8, 10, true, false},
                                         {{1, 5, 7, 2}, 7, 3, false, true},
                                         {{2, 5, 7, 2}, 9, 11, true, false},
                                         {{1, 6, 6, 2}, 4, 5, false, false}}) {
    TinyModel m;
    const int in = m.activation(c.input);
    const int size = m.int_constant({2}, {c.h, c.w});
    const int out = m.activation({c.input[0], c.h, c.w, c.input[3]});
    m.op(tfl::BuiltinOperator::RESIZE_BILINEAR, {in, size}, {out}, [c](fb& b) {
      return std::make_pair(tfl::BuiltinOptions::ResizeBilinearOptions,
                            tfl::CreateResizeBilinearOptions(b, c.align_corners, c.half_pixel).Union());
    });
    m.output(out);
    SCOPED_TRACE(fmt::format("{} -> {}x{} align_corners {} half_pixel {}", fmt::join(c.input, "x"), c.h, c.w,
                             c.align_corners, c.half_pixel));
    check_model(m.finish(), Tolerance::kAccumulated);
  }
}

TEST(XnnpackOps, DepthToSpace) {
  TinyModel m;
  const int in = m.activation({1, 3, 4, 12});
  const int out = m.activation({1, 6, 8, 3});
  m.op(tfl::BuiltinOperator::DEPTH_TO_SPACE, {in}, {out}, [](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::DepthToSpaceOptions,
                          tfl::CreateDepthToSpaceOptions(b, 2).Union());
  });
  m.output(out);
  check_model(m.finish(), Tolerance::kElementwise);
}

// ---------------------------------------------------------------------------
// Partitioning.

TEST(XnnpackOps, RunsAroundReferenceOpsShareTheArena) {
  // conv -> concat (reference) -> conv, with a skip connection over the concat
  // and an intermediate that is also a model output.
  TinyModel m;
  const int in = m.activation({1, 6, 6, 3});
  auto conv = [&](int input, int cin, int cout) {
    const int out = m.activation({1, 6, 6, cout});
    m.op(tfl::BuiltinOperator::CONV_2D,
         {input, m.random_constant({cout, 3, 3, cin}), m.random_constant({cout})}, {out}, [](fb& b) {
           return std::make_pair(
               tfl::BuiltinOptions::Conv2DOptions,
               tfl::CreateConv2DOptions(b, tfl::Padding::SAME, 1, 1, tfl::ActivationFunctionType::RELU)
                   .Union());
         });
    return out;
  };
  const int a = conv(in, 3, 4);
  const int b = conv(a, 4, 4);
  const int cat = m.activation({1, 6, 6, 8});
  m.op(tfl::BuiltinOperator::CONCATENATION, {a, b}, {cat}, [](fb& fbb) {
    return std::make_pair(tfl::BuiltinOptions::ConcatenationOptions,
                          tfl::CreateConcatenationOptions(fbb, 3).Union());
  });
  const int c = conv(cat, 8, 4);
  const int sum = m.activation({1, 6, 6, 4});
  m.op(tfl::BuiltinOperator::ADD, {c, b}, {sum}, binary_options(tfl::BuiltinOperator::ADD, {}));
  m.output(sum);
  m.output(a);
  const std::vector<uint8_t> bytes = m.finish();

  {
    const BackendStack backends = make_backends(kDefaultBackend, 1);
    const InterpreterOptions options = backends.options();
    auto xnn = Interpreter::from_buffer(bytes, "xnnpack", options);
    ASSERT_EQ(xnn->plan_info().size(), 5u);
    EXPECT_EQ(xnn->plan_info()[0].name, "XNNPACK(CONV_2D #0)");
    EXPECT_EQ(xnn->plan_info()[2].name, "CONCATENATION");
    EXPECT_EQ(xnn->plan_info()[4].name, "XNNPACK(ADD #4)");
  }
  {
    XnnpackOptions xo;
    xo.max_ops_per_runtime = 0;
    XnnpackDelegate backend(xo);
    InterpreterOptions options;
    options.backends = {&backend};
    auto xnn = Interpreter::from_buffer(bytes, "xnnpack", options);
    ASSERT_EQ(xnn->plan_info().size(), 3u);
    EXPECT_EQ(xnn->plan_info()[0].name, "XNNPACK(CONV_2D #0 + CONV_2D #1)");
    EXPECT_EQ(xnn->plan_info()[1].name, "CONCATENATION");
    EXPECT_EQ(xnn->plan_info()[2].name, "XNNPACK(CONV_2D #3 + ADD #4)");
  }
  check_model(bytes, Tolerance::kAccumulated, Expect::kMixed);
}

TEST(XnnpackOps, WeightsCutIntoSeveralRuntimes) {
  // Each conv packs 64x3x3x64 floats (144 KiB): a 16 KiB limit gives one runtime per conv.
  TinyModel m;
  int x = m.activation({1, 5, 5, 64});
  for (int i = 0; i < 4; ++i) {
    const int out = m.activation({1, 5, 5, 64});
    m.op(tfl::BuiltinOperator::CONV_2D, {x, m.random_constant({64, 3, 3, 64})}, {out}, [](fb& b) {
      return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                            tfl::CreateConv2DOptions(b, tfl::Padding::SAME, 1, 1).Union());
    });
    x = out;
  }
  m.output(x);
  const std::vector<uint8_t> bytes = m.finish();
  XnnpackOptions xo;
  xo.threads = 1;
  xo.max_ops_per_runtime = 0;
  xo.pack_chunk_bytes = 16 << 10;
  XnnpackDelegate delegate(xo);
  InterpreterOptions options;
  options.backends = {&delegate};
  auto xnn = Interpreter::from_buffer(bytes, "chunks", options);
  EXPECT_EQ(xnn->plan_info().size(), 4u);
  auto ref = Interpreter::from_buffer(bytes, "ref");
  std::mt19937 r1(3), r2(3);
  fill_random(ref->input(0), r1);
  fill_random(xnn->input(0), r2);
  ref->invoke();
  xnn->invoke();
  double max_ref = 0, max_diff = 0;
  for (int64_t k = 0; k < ref->output(0).num_elements(); ++k) {
    const float a = ref->output(0).data_as<float>()[k], b = xnn->output(0).data_as<float>()[k];
    max_ref = std::max(max_ref, static_cast<double>(std::fabs(a)));
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(a - b)));
  }
  EXPECT_LE(max_diff, 1e-5 * std::max(1.0, max_ref));
}

TEST(XnnpackOps, PadAndClampStayWithTheirNeighbours) {
  // PAD -> CONV_2D -> RELU: XNNPACK fuses all three when they share a runtime.
  TinyModel m;
  const int in = m.activation({1, 6, 6, 3});
  const int padded = m.activation({1, 8, 8, 3});
  m.op(tfl::BuiltinOperator::PAD, {in, m.int_constant({4, 2}, {0, 0, 1, 1, 1, 1, 0, 0})}, {padded});
  const int conv = m.activation({1, 6, 6, 4});
  m.op(tfl::BuiltinOperator::CONV_2D, {padded, m.random_constant({4, 3, 3, 3})}, {conv}, [](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                          tfl::CreateConv2DOptions(b, tfl::Padding::VALID, 1, 1).Union());
  });
  const int relu = m.activation({1, 6, 6, 4});
  m.op(tfl::BuiltinOperator::RELU, {conv}, {relu});
  const int pooled = m.activation({1, 3, 3, 4});
  m.op(tfl::BuiltinOperator::MAX_POOL_2D, {relu}, {pooled}, [](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::Pool2DOptions,
                          tfl::CreatePool2DOptions(b, tfl::Padding::VALID, 2, 2, 2, 2).Union());
  });
  m.output(pooled);
  const std::vector<uint8_t> bytes = m.finish();
  const BackendStack backends = make_backends(kDefaultBackend, 1);
  const InterpreterOptions options = backends.options();
  auto xnn = Interpreter::from_buffer(bytes, "xnnpack", options);
  ASSERT_EQ(xnn->plan_info().size(), 2u);
  EXPECT_EQ(xnn->plan_info()[0].name, "XNNPACK(3 ops)");
  EXPECT_EQ(xnn->plan_info()[1].name, "XNNPACK(MAX_POOL_2D #3)");
  check_model(bytes, Tolerance::kAccumulated);
}

TEST(XnnpackBackend, Names) {
  EXPECT_TRUE(make_backends("ref", 0).backends().empty());
  const BackendStack x = make_backends("xnnpack", 2);
  ASSERT_EQ(x.backends().size(), 1u);
  EXPECT_EQ(x.backends()[0]->name(), "XNNPACK");
  const BackendStack stack = make_backends("osprey-avx512,xnnpack,ref", 1);
  ASSERT_EQ(stack.backends().size(), 2u);
  EXPECT_EQ(stack.backends()[0]->name(), "osprey-avx512");
  EXPECT_EQ(stack.options().backends.size(), 2u);
  EXPECT_EQ(make_backends(kDefaultBackend, 1).backends().size(), 2u);
  EXPECT_THROW(make_backends("gpu", 0), Error);
  EXPECT_THROW(make_backends("xnnpack", -1), Error);
  for (const char* bad : {"gpu", "xnnpack,xnnpack", "ref,xnnpack", "", "xnnpack,", ",ref"}) {
    try {
      make_backends(bad, 1);
      ADD_FAILURE() << "'" << bad << "' accepted";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("osprey-avx512, xnnpack, ref"), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
  EXPECT_EQ(check_backend_list("osprey-avx512,xnnpack"), "");
  EXPECT_NE(check_backend_list("gpu"), "");
  EXPECT_GE(resolve_threads(0), 1);
  EXPECT_EQ(resolve_threads(3), 3);
}

}  // namespace
}  // namespace osprey
