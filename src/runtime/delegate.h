// A backend that takes over runs of ops from the reference kernels, the way a
// TFLite delegate does. The interpreter applies its backends one after
// another (InterpreterOptions::backends):
//
//  1. It prepares the plan (shapes known, constants folded) and hands each
//     backend, in order, the steps still on the reference kernels; steps an
//     earlier backend claimed appear as one op with index -1, which a later
//     backend leaves alone.
//  2. The backend claims contiguous runs of steps it supports and returns one
//     kernel per run. Tensors at a run's boundary stay in the arena, so data
//     crosses between backends without copies.
//  3. Weight release. A run's kernel copies or packs every constant its steps
//     read while it is built, and never reads the graph's copy again. Once
//     every step reading a constant is claimed and built, the interpreter
//     gives the constant's pages back to the system and sets its
//     Tensor::data to null (so a reader that should not exist fails loudly).
//     A backend that packs a lot calls `PackedSteps::built` after each run it
//     builds, so unpacked and packed copies of all weights never coexist;
//     runs it returns without that call are released when partition returns.
//     Constants no step reads at all (inputs of load-time folding) go before
//     the first backend runs. InterpreterOptions::release_weights turns this
//     off.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernels/kernel.h"

namespace osprey {

struct DelegatedRun {
  int first_step = 0;  // positions in the plan, [first_step, last_step]
  int last_step = 0;
  std::vector<int> inputs;   // non-constant tensors the run reads that come from outside it
  std::vector<int> outputs;  // tensors it writes that are read after it or are model outputs
  // Prepared against a synthetic op whose inputs/outputs are the lists above;
  // prepare must not change tensor shapes or types.
  std::unique_ptr<Kernel> kernel;
  std::string name;  // e.g. "XNNPACK(12 ops)" for profiles
};

// Step 3 of the contract above, as the interpreter offers it to a backend.
class PackedSteps {
 public:
  virtual ~PackedSteps() = default;
  // Steps [first_step, last_step] are claimed and their kernel is built: it
  // holds its own copy of every constant they read.
  virtual void built(int first_step, int last_step) = 0;
};

class Delegate {
 public:
  virtual ~Delegate() = default;
  virtual std::string name() const = 0;
  // `ops` is the plan in execution order (constant-folded ops removed, runs
  // of earlier backends as ops with index -1). Runs come back in step order.
  // Throws osprey::Error when something it claimed cannot be built.
  virtual std::vector<DelegatedRun> partition(const Graph& graph, const std::vector<const Op*>& ops,
                                              PackedSteps& packed) = 0;
};

}  // namespace osprey
