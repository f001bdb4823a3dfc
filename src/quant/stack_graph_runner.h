// Running a float graph on a backend stack (XNNPACK, osprey's AVX-512
// kernels) while keeping every float tensor, for calibration. Backends hide
// the tensors inside their runs (an XNNPACK runtime keeps them in its own
// workspace), so every float activation is made a model output: the
// interpreter then keeps it in the arena for the whole run, and every backend
// writes it there (delegate.h: a run hands back each tensor that is a model
// output, and does not fuse an op whose result is one into the next).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/interpreter.h"

namespace osprey::quant {

class StackGraphRunner {
 public:
  // `graph`: a float graph as prepare_float_graph leaves it (no op left to
  // fold). `backend`: a backends/backend.h list such as "osprey-avx512,xnnpack".
  StackGraphRunner(const Graph& graph, const std::string& backend, int threads);
  ~StackGraphRunner();
  StackGraphRunner(const StackGraphRunner&) = delete;
  StackGraphRunner& operator=(const StackGraphRunner&) = delete;

  int num_inputs() const { return interpreter_->num_inputs(); }
  Tensor& input(int i) { return interpreter_->input(i); }
  void run() { interpreter_->invoke(); }
  // The tensor that is tensor `t` of the graph given to the constructor, or
  // null when the stack's graph has none (t not used by any op or I/O).
  const Tensor* tensor(int t) const;
  size_t num_tensors() const { return index_.size(); }

 private:
  std::unique_ptr<Interpreter> interpreter_;
  std::vector<int> index_;  // graph tensor -> interpreter tensor (-1: none)
};

}  // namespace osprey::quant
