// InterpreterOptions::max_tensor_bytes: a model whose non-constant tensors
// add up to more than the budget is refused at load with one line; within
// it, the model loads and runs as without one. Kernel tables sized by the
// model are refused before they are built.
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

// x [1, 2, 2, 1] -> RESIZE_NEAREST_NEIGHBOR to 1 x 200,000,000: the output
// (800 MB) is over the budget, and so are the kernel's per-column source
// indices (1.6 GB), which prepare would build before the tensors were
// counted (found by fuzz_model_loader: ospreyd took the tables' memory
// before refusing the model).
std::vector<uint8_t> wide_resize_model(tfl::BuiltinOperator code) {
  testing::ModelBuilder m;
  const int x = m.activation({1, 2, 2, 1});
  const int size = m.int_constant({2}, {1, 200'000'000});
  const int y = m.activation({1, 1, 200'000'000, 1});
  m.op(code, {x, size}, {y});
  m.output(y);
  return m.finish();
}

TEST(InterpreterBudget, AResizeBuildsNoTablesAboveTheBudget) {
  InterpreterOptions options;
  options.max_tensor_bytes = 64 << 20;
  for (const auto code :
       {tfl::BuiltinOperator::RESIZE_NEAREST_NEIGHBOR, tfl::BuiltinOperator::RESIZE_BILINEAR}) {
    try {
      Interpreter::from_buffer(wide_resize_model(code), "resize", options);
      FAIL() << "loaded above its budget";
    } catch (const TensorBudgetExceeded& e) {
      EXPECT_NE(std::string(e.what()).find("resize: op #0 RESIZE_"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(", above the budget of 67108864"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("would need"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace osprey
