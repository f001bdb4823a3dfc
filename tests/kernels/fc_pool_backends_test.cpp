// Single ops on every backend against the reference kernels, through the
// Interpreter on small .tflite models (check_model): FULLY_CONNECTED, the pools
// and MEAN, and the windows a backend cannot express (reference kernels).
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
    ModelBuilder m;
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
// Pooling and reductions.

std::vector<uint8_t> pool_model(tfl::BuiltinOperator code, std::vector<int32_t> input, int fh, int fw, int sh,
                                int sw, tfl::Padding padding) {
  ModelBuilder m;
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
  ModelBuilder m;
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

}  // namespace
}  // namespace osprey
