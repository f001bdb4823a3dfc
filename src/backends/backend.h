// Execution backends, stacked in order of preference. Each backend claims the
// steps of a model it runs among those the backends before it left; the
// reference kernels ("ref", the oracle every faster path is tested against)
// run the rest. Tools pick a stack by a comma-separated list of names:
//
//   BackendStack stack = make_backends("osprey-avx512,xnnpack", threads);
//   InterpreterOptions options;
//   stack.fill(options);
//   auto interp = Interpreter::load(path, options);
//
//   osprey-avx512  osprey's own AVX-512 kernels (depthwise 3x3/5x5, sparse
//                  1x1 convolutions, int8/uint8 dense and depthwise
//                  convolutions; backends/avx512/); claims nothing on a
//                  CPU without AVX-512
//   xnnpack        XNNPACK subgraphs (backends/xnnpack/)
//   ref            the reference kernels: always last, implicit
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/delegate.h"
#include "runtime/interpreter.h"

namespace osprey {

// What tools use when no --backend is given: the fastest stack that gives
// the reference kernels' results within the differential test's bounds.
inline constexpr const char* kDefaultBackend = "osprey-avx512,xnnpack";

// Every name make_backends accepts in a list, in the default stack's order:
// {"osprey-avx512", "xnnpack", "ref"}.
const std::vector<std::string>& backend_names();

// An ordered list of backends, owning them. They only have to live until
// Interpreter::load returns: kernels they made keep what they need.
class BackendStack {
 public:
  BackendStack() = default;
  explicit BackendStack(int threads) : threads_(threads) {}
  BackendStack(BackendStack&&) = default;
  BackendStack& operator=(BackendStack&&) = default;
  ~BackendStack();

  void add(std::unique_ptr<Delegate> backend) { backends_.push_back(std::move(backend)); }
  // Puts the stack into `options.backends` (replacing what was there).
  void fill(InterpreterOptions& options) const;
  InterpreterOptions options() const {
    InterpreterOptions o;
    fill(o);
    return o;
  }
  // The backends before the reference kernels, in order ({} for "ref").
  const std::vector<std::unique_ptr<Delegate>>& backends() const { return backends_; }

 private:
  std::vector<std::unique_ptr<Delegate>> backends_;
  int threads_ = 1;  // that its pool splits steps over
};

// The stack a list such as "osprey-avx512,xnnpack,ref" names. "ref" may end
// it and is implied when it does not. `threads` is the number of threads the
// backends may use (one pool they share), 0 for the default pool (one thread
// per core this process may use, adapting to other load; thread_pool.h).
// Throws osprey::Error for an unknown or repeated name, an empty list, "ref"
// before another name, or a negative thread count.
BackendStack make_backends(const std::string& list, int threads = 0);

// Whether make_backends accepts `list`; "" if so, else the one-line reason.
std::string check_backend_list(const std::string& list);

}  // namespace osprey
