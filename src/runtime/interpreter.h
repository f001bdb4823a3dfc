// Loads a .tflite model, prepares it (shapes, constant folding, memory plan)
// and runs it. The one entry point tools, heads and the service use.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "graph/graph.h"
#include "kernels/kernel.h"
#include "kernels/op_resolver.h"
#include "model/model_file.h"

namespace osprey {

class Delegate;
class WeightRelease;

// A step wrote past the end of its output (InterpreterOptions::guard_bytes):
// a bug in a kernel, never the model's fault, so fuzzers and malformed-model
// tests must not count it as a rejected input.
class KernelOverrun : public Error {
 public:
  using Error::Error;
};

struct InterpreterOptions {
  const OpResolver* resolver = nullptr;  // default: the reference kernels
  // Faster backends, tried in order: each claims the steps it runs among
  // those earlier ones left; the rest run on the reference kernels (see
  // runtime/delegate.h; backends/backend.h builds the usual stacks). They
  // only have to live until load returns.
  std::vector<Delegate*> backends;
  // The threads the backends split each step over (BackendStack::fill sets
  // it): the memory planner keeps each arena line with the thread writing it.
  int threads = 1;
  // Give back constants' pages once backends have packed them (delegate.h).
  bool release_weights = true;
  // For tests: leave this many bytes after each tensor in the arena, fill
  // them with a pattern before the step that writes the tensor and check
  // them after it; invoke() throws when a step wrote past its output. Such
  // a write (a masked store with too wide a mask, say) changes no value a
  // comparison reads, and ASan does not see masked stores.
  size_t guard_bytes = 0;
  // A budget for callers that load untrusted models (the fuzzers): refuse a
  // model whose non-constant tensors add up to more bytes than this, counted
  // before any backend is built or the memory planner shares bytes between
  // them. 0: no budget.
  size_t max_tensor_bytes = 0;
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
  // Bytes of constants given back to the system once backends had packed
  // them (InterpreterOptions::release_weights): still allocated, no longer resident.
  size_t released_weight_bytes() const { return released_weight_bytes_; }
  const std::vector<OpInfo>& plan_info() const { return plan_info_; }
  // Multiply-accumulates of one invoke(): plan_info()'s, summed.
  int64_t total_macs() const;
  // Ops removed at load time because all their inputs were constant.
  int folded_ops() const { return folded_ops_; }

 private:
  Interpreter() = default;
  void prepare(const InterpreterOptions& options);
  void apply_backend(Delegate& backend, WeightRelease& release, std::vector<int>& origin);
  void plan_memory(int threads);
  void run_step(size_t i);  // eval, with guard bytes around it when asked
  bool in_arena(const Tensor& tensor) const;
  void fill_guards(size_t step);
  void check_guards(size_t step) const;

  std::unique_ptr<ModelFile> file_;
  Graph graph_;
  struct Step {
    const Op* op;
    std::unique_ptr<Kernel> kernel;
    bool empty = false;  // every output has zero elements: eval is skipped
  };
  std::vector<Step> steps_;
  std::vector<std::unique_ptr<Op>> delegated_ops_;  // synthetic ops standing for delegated runs
  std::vector<OpInfo> plan_info_;
  uint8_t* arena_ = nullptr;
  size_t arena_size_ = 0;
  size_t guard_bytes_ = 0;
  size_t released_weight_bytes_ = 0;
  int folded_ops_ = 0;
};

}  // namespace osprey
