// InterpreterOptions::guard_bytes: a step that writes past the end of its
// output fails invoke() with the op's name, one that stays inside does not.
// The writes come from a backend made for the test, which claims every step
// with a kernel that writes `overrun` bytes past each output.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "runtime/interpreter.h"
#include "support/every_step_backend.h"
#include "support/model_builder.h"

namespace osprey {
namespace {

using fb = flatbuffers::FlatBufferBuilder;

class FillKernel final : public Kernel {
 public:
  explicit FillKernel(size_t overrun) : overrun_(overrun) {}
  void prepare(KernelContext&) override {}
  void eval(KernelContext& ctx) override {
    Tensor& out = ctx.output(0);
    std::memset(out.data, 1, out.num_bytes() + overrun_);
  }

 private:
  size_t overrun_;
};

// Two RELUs on 5 floats: 20-byte tensors, so even a one-byte overrun stays
// inside the arena's 64-byte alignment, where nothing else can see it.
std::vector<uint8_t> two_relus() {
  testing::ModelBuilder m;
  const int x = m.activation({1, 5});
  const int y = m.activation({1, 5});
  const int z = m.activation({1, 5});
  m.op(tfl::BuiltinOperator::RELU, {x}, {y});
  m.op(tfl::BuiltinOperator::RELU, {y}, {z});
  m.output(z);
  return m.finish();
}

std::string invoke_error(size_t overrun, size_t guard_bytes) {
  testing::EveryStepBackend backend("FILL", [overrun] { return std::make_unique<FillKernel>(overrun); });
  InterpreterOptions options;
  options.backends = {&backend};
  options.guard_bytes = guard_bytes;
  auto interp = Interpreter::from_buffer(two_relus(), "relus", options);
  try {
    interp->invoke();
    interp->invoke();  // the guards are filled anew for each run
  } catch (const Error& e) {
    return e.what();
  }
  EXPECT_EQ(interp->output(0).data_as<uint8_t>()[0], 1);
  return "";
}

TEST(InterpreterGuard, AWritePastTheOutputFailsNamingTheOp) {
  EXPECT_EQ(invoke_error(1, 64), "FILL(RELU) wrote past the end of its output 't1' (20 bytes): byte 20");
  EXPECT_NE(invoke_error(64, 64).find("byte 20"), std::string::npos);
}

TEST(InterpreterGuard, ProfiledRunsAreGuardedToo) {
  testing::EveryStepBackend backend("FILL", [] { return std::make_unique<FillKernel>(1); });
  InterpreterOptions options;
  options.backends = {&backend};
  options.guard_bytes = 8;
  auto interp = Interpreter::from_buffer(two_relus(), "relus", options);
  std::vector<double> seconds;
  EXPECT_THROW(interp->invoke_profiled(seconds), KernelOverrun);
}

TEST(InterpreterGuard, WritesInsideTheOutputPass) {
  EXPECT_EQ(invoke_error(0, 64), "");
}

TEST(InterpreterGuard, OffWithoutGuardBytes) {
  EXPECT_EQ(invoke_error(1, 0), "");
}

}  // namespace
}  // namespace osprey
