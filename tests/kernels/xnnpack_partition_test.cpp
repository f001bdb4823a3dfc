// How the XNNPACK backend cuts a model into runs and runtimes: runs around
// reference ops sharing the arena, weights cut into several runtimes, PAD and
// clamps kept with their neighbours; and the backend names tools accept.
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/backend.h"
#include "backends/thread_pool.h"
#include "backends/xnnpack/xnnpack_delegate.h"
#include "io/random_fill.h"
#include "kernels/op_tester.h"
#include "model/tflite_schema_generated.h"
#include "runtime/interpreter.h"
#include "support/model_builder.h"

namespace osprey {
namespace {

using fb = flatbuffers::FlatBufferBuilder;
using namespace osprey::testing;

// ---------------------------------------------------------------------------
// Partitioning.

TEST(XnnpackOps, RunsAroundReferenceOpsShareTheArena) {
  // conv -> concat (reference) -> conv, with a skip connection over the concat
  // and an intermediate that is also a model output.
  ModelBuilder m;
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
  m.op(tfl::BuiltinOperator::ADD, {c, b}, {sum}, [](fb& fbb) {
    return std::make_pair(tfl::BuiltinOptions::AddOptions, tfl::CreateAddOptions(fbb).Union());
  });
  m.output(sum);
  m.output(a);
  const std::vector<uint8_t> bytes = m.finish();

  {
    TestBackend backend = make_test_backend(kXnnpack, 1);  // one runtime per op
    auto xnn = Interpreter::from_buffer(bytes, "xnnpack", backend.options);
    ASSERT_EQ(xnn->plan_info().size(), 5u);
    EXPECT_EQ(xnn->plan_info()[0].name, "XNNPACK(CONV_2D #0)");
    EXPECT_EQ(xnn->plan_info()[2].name, "CONCATENATION");
    EXPECT_EQ(xnn->plan_info()[4].name, "XNNPACK(ADD #4)");
  }
  {
    // The default: one runtime per run of ops. `a` is read by the concatenation
    // and is a model output, so it stays external; so does `b`, read by the ADD.
    XnnpackDelegate backend;
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
  ModelBuilder m;
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

TEST(XnnpackOps, LargeTensorsEndARuntime) {
  // Three 1x1 convs on a 32x32x32 map: each output is 128 KiB.
  ModelBuilder m;
  int x = m.activation({1, 32, 32, 32});
  for (int i = 0; i < 3; ++i) {
    const int out = m.activation({1, 32, 32, 32});
    m.op(tfl::BuiltinOperator::CONV_2D, {x, m.random_constant({32, 1, 1, 32})}, {out}, [](fb& b) {
      return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                            tfl::CreateConv2DOptions(b, tfl::Padding::SAME, 1, 1).Union());
    });
    x = out;
  }
  m.output(x);
  const std::vector<uint8_t> bytes = m.finish();
  for (auto [limit, runtimes] : {std::pair<size_t, size_t>{(128 << 10) - 1, 3}, {128 << 10, 1}, {0, 1}}) {
    SCOPED_TRACE(limit);
    XnnpackOptions xo;
    xo.threads = 1;
    xo.max_internal_bytes = limit;
    XnnpackDelegate delegate(xo);
    InterpreterOptions options;
    options.backends = {&delegate};
    auto xnn = Interpreter::from_buffer(bytes, "large", options);
    EXPECT_EQ(xnn->plan_info().size(), runtimes);
  }
  check_model(bytes, Tolerance::kAccumulated);
}

TEST(XnnpackOps, PadAndClampStayWithTheirNeighbours) {
  // PAD -> CONV_2D -> RELU: XNNPACK fuses all three when they share a runtime.
  ModelBuilder m;
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
  XnnpackOptions xo;
  xo.threads = 1;
  xo.max_ops_per_runtime = 1;  // fused neighbours stay together even so
  XnnpackDelegate delegate(xo);
  InterpreterOptions options;
  options.backends = {&delegate};
  auto xnn = Interpreter::from_buffer(bytes, "xnnpack", options);
  ASSERT_EQ(xnn->plan_info().size(), 2u);
  EXPECT_EQ(xnn->plan_info()[0].name, "XNNPACK(3 ops)");
  EXPECT_EQ(xnn->plan_info()[1].name, "XNNPACK(MAX_POOL_2D #3)");
  check_model(bytes, Tolerance::kAccumulated);
}

TEST(XnnpackOps, AResultNobodyReadsIsHandedBack) {
  // An AVERAGE_POOL_2D whose output no op reads (a fuzzer's model: the conv
  // after it was re-pointed at the pool's input). Inside one runtime XNNPACK
  // would clear that value's shape and abort making the runtime.
  ModelBuilder m;
  const int in = m.activation({1, 4, 4, 8});
  const int pooled = m.activation({1, 1, 1, 8});
  m.op(tfl::BuiltinOperator::AVERAGE_POOL_2D, {in}, {pooled}, [](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::Pool2DOptions,
                          tfl::CreatePool2DOptions(b, tfl::Padding::VALID, 4, 4, 4, 4).Union());
  });
  const int conv = m.activation({1, 4, 4, 4});
  m.op(tfl::BuiltinOperator::CONV_2D, {in, m.random_constant({4, 1, 1, 8})}, {conv}, [](fb& b) {
    return std::make_pair(tfl::BuiltinOptions::Conv2DOptions,
                          tfl::CreateConv2DOptions(b, tfl::Padding::VALID, 1, 1).Union());
  });
  m.output(conv);
  const std::vector<uint8_t> bytes = m.finish();
  TestBackend backend = make_test_backend(kXnnpack, 1, /*whole_runs=*/true);
  auto xnn = Interpreter::from_buffer(bytes, "dead-pool", backend.options);
  ASSERT_EQ(xnn->plan_info().size(), 1u);
  EXPECT_EQ(xnn->plan_info()[0].name, "XNNPACK(AVERAGE_POOL_2D #0 + CONV_2D #1)");
  check_model(bytes, Tolerance::kAccumulated);
}

TEST(XnnpackOps, APoolingWindowLargerThanTheInputStaysOnTheReferenceKernel) {
  // A fuzzer's MAX_POOL_2D: a 1x12 input under a 3 x 262,147 SAME window.
  // XNNPACK reads a padding value per tap outside the input (7.4 s); the
  // reference kernel clips the window (1.5 ms). A window the input holds
  // still goes to XNNPACK.
  for (const int filter_w : {262147, 12}) {
    ModelBuilder m;
    const int in = m.activation({4, 1, 12, 16});
    const int pooled = m.activation({4, 1, 12, 16});
    m.op(tfl::BuiltinOperator::MAX_POOL_2D, {in}, {pooled}, [filter_w](fb& b) {
      return std::make_pair(
          tfl::BuiltinOptions::Pool2DOptions,
          tfl::CreatePool2DOptions(b, tfl::Padding::SAME, 1, 1, filter_w, filter_w == 12 ? 1 : 3).Union());
    });
    m.output(pooled);
    const std::vector<uint8_t> bytes = m.finish();
    TestBackend backend = make_test_backend(kXnnpack, 1, /*whole_runs=*/true);
    auto xnn = Interpreter::from_buffer(bytes, "wide-window", backend.options);
    ASSERT_EQ(xnn->plan_info().size(), 1u);
    EXPECT_EQ(xnn->plan_info()[0].name, filter_w == 12 ? "XNNPACK(MAX_POOL_2D #0)" : "MAX_POOL_2D")
        << filter_w;
    check_model(bytes, Tolerance::kExact, filter_w == 12 ? Expect::kDelegated : Expect::kReference);
  }
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
