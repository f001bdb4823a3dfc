// The --backend / --threads options that every command running a model takes.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "backends/backend.h"

namespace osprey::cli {

struct BackendChoice {
  std::string backend = kDefaultBackend;
  int threads = 0;  // 0: all cores

  void add_options(CLI::App* cmd) {
    cmd->add_option("--backend,-b", backend,
                    "Execution backend: xnnpack (default) or ref (reference kernels)")
        ->check(CLI::IsMember(backend_names()));
    cmd->add_option("--threads", threads, "Threads for the backend (default: all cores)")
        ->check(CLI::NonNegativeNumber);
  }
  // The delegate must outlive Interpreter::load; keep it next to the options.
  std::unique_ptr<Delegate> make() const { return make_backend(backend, threads); }
};

}  // namespace osprey::cli
