// What the model fuzzers share: how they load untrusted bytes (each tells a
// model small enough to run in an iteration by its arena and total_macs()).
#pragma once

#include <cstddef>

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

}  // namespace osprey::fuzzing
