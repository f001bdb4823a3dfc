// ospreyd: accepts clients on a Unix socket and serves the Larod protocol.
#pragma once

#include <cstdint>
#include <string>

#include "service/daemon/memory_budget.h"

namespace osprey::service {

struct ServerOptions {
  std::string socket_path;
  bool test_hooks = false;  // honour kTestPauseDevice / kTestResumeDevice
  int max_sessions = 256;
  // cpu-tflite's execution backends, in order (src/backends/backend.h): the
  // default fast stack, or "ref", the reference kernels. `threads` 0 = one per core.
  std::string backend = "osprey-avx512,xnnpack";
  int threads = 1;
  // The most one model's working tensors may take (--max-model-memory).
  uint64_t max_model_bytes = uint64_t{1} << 30;
  // All loaded models and the tensors ospreyd allocated, across every
  // session (--max-memory); 0 = no limit.
  uint64_t max_memory_bytes = default_memory_budget();
};

// Runs until SIGTERM or SIGINT; returns the process exit code.
int run_server(const ServerOptions& options);

}  // namespace osprey::service
