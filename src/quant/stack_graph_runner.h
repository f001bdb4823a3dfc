// Running a graph on a backend stack (XNNPACK, osprey's AVX-512 kernels)
// while keeping every activation, for calibration and the per-layer accuracy
// report. Backends hide the tensors inside their runs (an XNNPACK runtime
// keeps them in its own workspace), so every kept activation is made a model
// output (after the model's own, which keep their positions): the
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
  enum class Keep { kFloat, kAll };  // float activations (calibration), or every non-constant tensor

  // `graph`: a graph without ops left to fold (prepare_float_graph's, or
  // live_graph of an Interpreter's). `backend`: a backends/backend.h list
  // such as "osprey-avx512,xnnpack".
  StackGraphRunner(const Graph& graph, const std::string& backend, int threads, Keep keep = Keep::kFloat);
  ~StackGraphRunner();
  StackGraphRunner(const StackGraphRunner&) = delete;
  StackGraphRunner& operator=(const StackGraphRunner&) = delete;

  int num_inputs() const { return interpreter_->num_inputs(); }
  Tensor& input(int i) { return interpreter_->input(i); }
  // The model's own outputs (not the kept activations).
  int num_outputs() const { return model_outputs_; }
  Tensor& output(int i) { return interpreter_->output(i); }
  // The graph that runs: the given one's tensors renumbered as tensor() maps them.
  const Graph& graph() const { return interpreter_->graph(); }
  void run() { interpreter_->invoke(); }
  // The tensor that is tensor `t` of the graph given to the constructor, or
  // null when the stack's graph has none (t not used by any op or I/O).
  const Tensor* tensor(int t) const;
  size_t num_tensors() const { return index_.size(); }

 private:
  std::unique_ptr<Interpreter> interpreter_;
  std::vector<int> index_;  // graph tensor -> interpreter tensor (-1: none)
  int model_outputs_ = 0;
};

}  // namespace osprey::quant
