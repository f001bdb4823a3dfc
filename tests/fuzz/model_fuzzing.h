// What the model fuzzers share: how they load untrusted bytes, and how they
// tell a model small enough to run in an iteration.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/interpreter.h"

namespace osprey::fuzzing {

// Guard bytes after each arena tensor, so that a kernel's write past its
// output (invisible to ASan inside the arena) throws KernelOverrun; and a
// budget for the model's tensors, so that a legal but huge model does not
// only test the machine's memory.
inline InterpreterOptions untrusted(size_t budget, InterpreterOptions options = {}) {
  options.guard_bytes = 64;
  options.max_tensor_bytes = budget;
  return options;
}

// Multiply-accumulates of one run of the loaded plan.
inline int64_t plan_macs(const Interpreter& interp) {
  int64_t macs = 0;
  for (const OpInfo& op : interp.plan_info()) macs += op.macs;
  return macs;
}

}  // namespace osprey::fuzzing
