// Loads a .tflite model, prepares it (shapes, constant folding, memory plan)
// and runs it. The one entry point tools, heads and the service use.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "kernels/kernel.h"
#include "kernels/op_resolver.h"
#include "model/model_file.h"

namespace osprey {

class Delegate;

struct InterpreterOptions {
  const OpResolver* resolver = nullptr;  // default: the reference kernels
  Delegate* delegate = nullptr;          // optional faster backend (e.g. XNNPACK)
};

// One op of the execution plan, as `inspect` and the profiler report it.
struct OpInfo {
  int index = 0;  // op index in the model (-1 for a delegated run)
  std::string name;
  Shape output_shape;
  int64_t macs = 0;
};

class Interpreter {
 public:
  // Throws osprey::Error("op #17 CONV_2D: ...") when the model cannot run.
  static std::unique_ptr<Interpreter> load(const std::string& path, const InterpreterOptions& options = {});
  static std::unique_ptr<Interpreter> from_buffer(std::vector<uint8_t> bytes, const std::string& label,
                                                  const InterpreterOptions& options = {});
  ~Interpreter();

  int num_inputs() const { return static_cast<int>(graph_.inputs.size()); }
  int num_outputs() const { return static_cast<int>(graph_.outputs.size()); }
  Tensor& input(int i) { return graph_.tensors[static_cast<size_t>(graph_.inputs[static_cast<size_t>(i)])]; }
  Tensor& output(int i) {
    return graph_.tensors[static_cast<size_t>(graph_.outputs[static_cast<size_t>(i)])];
  }
  const Graph& graph() const { return graph_; }

  // Runs every op once on the current input data.
  void invoke();
  // Runs like invoke() and records each op's wall time in seconds.
  void invoke_profiled(std::vector<double>& seconds_per_op);

  size_t arena_bytes() const { return arena_size_; }
  size_t weight_bytes() const;  // bytes of constant tensors used by the plan
  const std::vector<OpInfo>& plan_info() const { return plan_info_; }
  // Ops removed at load time because all their inputs were constant.
  int folded_ops() const { return folded_ops_; }

 private:
  Interpreter() = default;
  void prepare(const InterpreterOptions& options);
  void apply_delegate(Delegate& delegate);
  void plan_memory();

  std::unique_ptr<ModelFile> file_;
  Graph graph_;
  struct Step {
    const Op* op;
    std::unique_ptr<Kernel> kernel;
  };
  std::vector<Step> steps_;
  std::vector<std::unique_ptr<Op>> delegated_ops_;  // synthetic ops standing for delegated runs
  std::vector<OpInfo> plan_info_;
  uint8_t* arena_ = nullptr;
  size_t arena_size_ = 0;
  int folded_ops_ = 0;
};

}  // namespace osprey
