// Execution backends: the portable reference kernels ("ref", the oracle every
// faster path is tested against) and XNNPACK ("xnnpack"), which takes over
// runs of ops as a Delegate. Tools pick one by name:
//
//   std::unique_ptr<Delegate> backend = make_backend(name, threads);
//   InterpreterOptions options;
//   options.delegate = backend.get();  // nullptr for "ref"
//   auto interp = Interpreter::load(path, options);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/delegate.h"

namespace osprey {

// "xnnpack": what tools use when no --backend is given.
inline constexpr const char* kDefaultBackend = "xnnpack";

// Every name make_backend accepts, the default first: {"xnnpack", "ref"}.
const std::vector<std::string>& backend_names();

// The Delegate of backend `name`, or nullptr for "ref" (the reference kernels
// need no delegate). `threads` is the number of threads the backend may use,
// 0 for one per online core. The delegate only has to live until
// Interpreter::load returns: kernels it made keep what they need.
// Throws osprey::Error for an unknown name or a negative thread count.
std::unique_ptr<Delegate> make_backend(const std::string& name, int threads = 0);

// The thread count `threads` stands for: itself when positive, else the
// number of online cores.
int resolve_threads(int threads);

}  // namespace osprey
