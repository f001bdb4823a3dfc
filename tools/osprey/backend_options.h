// The --backend / --threads options that every command running a model takes.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "backends/backend.h"
#include "backends/thread_pool.h"
#include "commands.h"

namespace osprey::cli {

struct BackendChoice {
  std::string backend = kDefaultBackend;
  int threads = 0;  // 0: one per core, adaptive (backends/thread_pool.h)

  void add_options(CLI::App* cmd) {
    std::string names;
    for (const std::string& n : backend_names()) names += (names.empty() ? "" : ", ") + n;
    cmd->add_option("--backend,-b", backend,
                    "Backends in order of preference, comma-separated (" + names + "; default " +
                        kDefaultBackend +
                        "): each runs the ops it supports among those the ones before "
                        "it left, ref (the reference kernels, always last) runs the rest")
        ->check(CLI::Validator(check_backend_list, "LIST"));
    cmd->add_option("--threads", threads,
                    "Threads for the backends, up to " + std::to_string(kMaxThreads) +
                        " (default: one per core, on the calling thread alone while "
                        "other processes hold the cores)")
        ->check(whole_number(0, kMaxThreads));
  }
  // The stack must outlive Interpreter::load; keep it next to the options.
  BackendStack make() const { return make_backends(backend, threads); }
};

}  // namespace osprey::cli
