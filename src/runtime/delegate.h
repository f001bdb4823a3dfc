// A backend that takes over runs of ops from the reference kernels, the way a
// TFLite delegate does: the interpreter hands it the prepared plan (shapes
// known, constants folded), it claims contiguous runs of steps it supports and
// returns one kernel per run. Tensors at a run's boundary stay in the arena,
// so data crosses between backends without copies.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernels/kernel.h"

namespace osprey {

struct DelegatedRun {
  int first_step = 0;  // positions in the plan, [first_step, last_step]
  int last_step = 0;
  std::vector<int> inputs;   // tensors the run reads that come from outside it
  std::vector<int> outputs;  // tensors it writes that are read after it or are model outputs
  // Prepared against a synthetic op whose inputs/outputs are the lists above;
  // prepare must not change tensor shapes or types.
  std::unique_ptr<Kernel> kernel;
  std::string name;  // e.g. "XNNPACK(12 ops)" for profiles
};

class Delegate {
 public:
  virtual ~Delegate() = default;
  virtual std::string name() const = 0;
  // `ops` is the plan in execution order (constant-folded ops removed).
  // Throws osprey::Error when something it claimed cannot be built.
  virtual std::vector<DelegatedRun> partition(Graph& graph, const std::vector<const Op*>& ops) = 0;
};

}  // namespace osprey
