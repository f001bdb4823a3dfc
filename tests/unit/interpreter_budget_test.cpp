// InterpreterOptions::max_tensor_bytes: a model whose non-constant tensors
// add up to more than the budget is refused at load with one line; within
// it, the model loads and runs as without one.
#include <gtest/gtest.h>

#include "runtime/interpreter.h"
#include "support/model_builder.h"

namespace osprey {
namespace {

// x [1, 100] -> RELU -> y: 800 bytes of float tensors.
std::vector<uint8_t> budget_model() {
  testing::ModelBuilder m;
  const int x = m.activation({1, 100});
  const int y = m.activation({1, 100});
  m.op(tfl::BuiltinOperator::RELU, {x}, {y});
  m.output(y);
  return m.finish();
}

TEST(InterpreterBudget, AModelAboveTheBudgetIsRefused) {
  InterpreterOptions options;
  options.max_tensor_bytes = 799;
  try {
    Interpreter::from_buffer(budget_model(), "relu", options);
    FAIL() << "loaded above its budget";
  } catch (const TensorBudgetExceeded& e) {
    // The type survives the loader's labelling, so that callers (ospreyd)
    // can say whose budget it was.
    EXPECT_EQ(std::string(e.what()), "relu: the model's tensors need 800 bytes, above the budget of 799");
    EXPECT_EQ(e.needed, 800u);
    EXPECT_EQ(e.budget, 799u);
  }
}

TEST(InterpreterBudget, AModelWithinTheBudgetRuns) {
  InterpreterOptions options;
  options.max_tensor_bytes = 800;
  auto interp = Interpreter::from_buffer(budget_model(), "relu", options);
  for (int i = 0; i < 100; ++i) interp->input(0).data_as<float>()[i] = static_cast<float>(i - 50);
  interp->invoke();
  EXPECT_EQ(interp->output(0).data_as<float>()[10], 0.0f);
  EXPECT_EQ(interp->output(0).data_as<float>()[60], 10.0f);
}

}  // namespace
}  // namespace osprey
