// How the interpreter drives each step's kernel: bind once, at load, with the
// tensors in their planned places; eval on every run, except for a step whose
// outputs hold no element (nothing to compute, however long its loops over the
// other dimensions would take). The kernels come from a backend made for the
// test, which claims every step and counts the calls.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/interpreter.h"
#include "support/every_step_backend.h"
#include "support/model_builder.h"

namespace osprey {
namespace {

struct Calls {
  int bind = 0, eval = 0;
  bool placed_at_bind = false;  // the output had its arena address when bound
};

class CountingKernel final : public Kernel {
 public:
  explicit CountingKernel(Calls& calls) : calls_(calls) {}
  void prepare(KernelContext&) override {}
  void bind(KernelContext& ctx) override {
    ++calls_.bind;
    calls_.placed_at_bind = ctx.output(0).data != nullptr;
  }
  void eval(KernelContext&) override { ++calls_.eval; }

 private:
  Calls& calls_;
};

// One RELU on a [1, width] tensor.
Calls run_relu(int32_t width, int runs) {
  testing::ModelBuilder m;
  const int x = m.activation({1, width});
  const int y = m.activation({1, width});
  m.op(tfl::BuiltinOperator::RELU, {x}, {y});
  m.output(y);
  Calls calls;
  testing::EveryStepBackend backend("COUNT", [&calls] { return std::make_unique<CountingKernel>(calls); });
  InterpreterOptions options;
  options.backends = {&backend};
  auto interp = Interpreter::from_buffer(m.finish(), "relu", options);
  EXPECT_EQ(calls.bind, 1) << "bound at load";
  EXPECT_EQ(calls.eval, 0);
  for (int i = 0; i < runs; ++i) interp->invoke();
  return calls;
}

TEST(InterpreterSteps, KernelsAreBoundOnceAtLoadAndEvaluatedEveryRun) {
  const Calls calls = run_relu(5, 3);
  EXPECT_EQ(calls.bind, 1);
  EXPECT_TRUE(calls.placed_at_bind);
  EXPECT_EQ(calls.eval, 3);
}

TEST(InterpreterSteps, AStepWithoutOutputElementsIsNotEvaluated) {
  const Calls calls = run_relu(0, 3);
  EXPECT_EQ(calls.bind, 1);
  EXPECT_EQ(calls.eval, 0);
}

}  // namespace
}  // namespace osprey
