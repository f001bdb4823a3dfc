#include "kernels/kernel.h"

namespace osprey {

Tensor& KernelContext::input(int i) const {
  OSPREY_CHECK(has_input(i), "input {} is missing", i);
  return graph_.tensors[static_cast<size_t>(op_.inputs[static_cast<size_t>(i)])];
}

Tensor& KernelContext::output(int i) const {
  OSPREY_CHECK(i < num_outputs() && op_.outputs[static_cast<size_t>(i)] >= 0, "output {} is missing", i);
  return graph_.tensors[static_cast<size_t>(op_.outputs[static_cast<size_t>(i)])];
}

void KernelContext::reserve_tables(size_t bytes, const char* what) const {
  if (budget_ == 0) return;
  size_t outputs = 0;
  for (int i = 0; i < num_outputs(); ++i) outputs += output(i).num_bytes();
  if (bytes + outputs > budget_) {
    throw TensorBudgetExceeded(fmt::format("its outputs and {} would need {} bytes, above the budget of {}",
                                           what, bytes + outputs, budget_),
                               bytes + outputs, budget_);
  }
}

void check_built_shapes(const KernelContext& ctx, const char* what, const Shape& in, const Shape& out) {
  OSPREY_CHECK(ctx.num_inputs() == 1 && ctx.num_outputs() == 1, "{} takes one input and output", what);
  OSPREY_CHECK(ctx.input(0).shape == in && ctx.output(0).shape == out,
               "{} shapes {} -> {} differ from those it was built for ({} -> {})", what,
               shape_str(ctx.input(0).shape), shape_str(ctx.output(0).shape), shape_str(in), shape_str(out));
}

}  // namespace osprey
