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

}  // namespace osprey
