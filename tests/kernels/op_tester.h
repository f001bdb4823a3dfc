// Runs one op on every implementation osprey has and compares them. The op's
// graph is built here (inputs, outputs, options); run() evaluates it with the
// reference kernel (prepare + eval, whose results output() returns), then
// writes it as a .tflite and runs it through the interpreter on each backend
// under test, comparing every output with the reference's. Which
// implementation actually ran the op ("claimed" it) is read from the
// interpreter's plan; a case can demand one (expect_claim) and fails if that
// implementation left the op to the reference kernels.
//
// check_model() does the same for a whole .tflite model.
#pragma once

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "graph/graph.h"
#include "kernels/op_resolver.h"
#include "runtime/delegate.h"
#include "runtime/interpreter.h"

namespace osprey::testing {

// How close a backend's float outputs must be to the reference's.
enum class Tolerance {
  kElementwise,  // |x - ref| <= 3e-6 |ref| per element (plus a denormal-sized floor)
  kAccumulated,  // max |x - ref| <= 1e-5 max(1, max |ref|): sums taken in another order
  kExact,        // every byte equal (implementations of one integer arithmetic)
};
// Integer outputs: quantized ones within 1 of the reference (rounding of a
// rescale taken in another order) unless kExact, the others exactly equal.

// Implementations a claim can name: "xnnpack" (the XNNPACK lowering) and
// "osprey-avx512" (osprey's own AVX-512 depthwise, sparse 1x1 and int8 kernels).
inline constexpr const char* kXnnpack = "xnnpack";
inline constexpr const char* kOspreyAvx512 = "osprey-avx512";

// The backends every OpTester and check_model run beyond the reference
// kernels, by name.
const std::vector<std::string>& test_backends();

// Guard bytes after each arena tensor in every interpreter the tester and
// check_model run: a kernel that writes past its output fails the case
// (InterpreterOptions::guard_bytes), one whole AVX-512 vector past it at least.
inline constexpr size_t kGuardBytes = 64;

// A backend stack as the interpreter takes it: the options point into the
// objects held here, so this must outlive Interpreter::load.
struct TestBackend {
  BackendStack stack;
  InterpreterOptions options;
};
// The one place tests turn a backend name into interpreter options. `threads`
// as make_backend takes it; without `whole_runs`, XNNPACK gets one runtime per
// op (its default puts each run of ops into one runtime).
TestBackend make_test_backend(const std::string& name, int threads, bool whole_runs = false);

// Implementations that claimed ops in `interp`'s plan, with how many runs each.
std::map<std::string, int> claims_of(const Interpreter& interp);

class OpTester {
 public:
  // Checks the op on the reference kernels and on every test_backends() entry.
  OpTester();
  // Checks it on these backends only ({} or {"ref"}: reference kernels only).
  explicit OpTester(std::vector<std::string> backends);

  // Adds an input tensor holding `values`; constant inputs model weights.
  template <typename T>
  int add_input(const Shape& shape, const std::vector<T>& values, bool constant = false,
                Quantization quant = {}) {
    const auto* p = reinterpret_cast<const uint8_t*>(values.data());
    return add_raw_input(dtype_of<T>(), shape, std::vector<uint8_t>(p, p + values.size() * sizeof(T)),
                         constant, std::move(quant));
  }
  // Adds an input of raw bytes of any type (e.g. float16 weights).
  int add_raw_input(DType type, const Shape& shape, const std::vector<uint8_t>& bytes, bool constant,
                    Quantization quant = {});
  void add_missing_input() { op_.inputs.push_back(-1); }
  // Adds an output; its shape is what prepare infers (the declared shape is a hint).
  int add_output(DType type, Shape declared = {}, Quantization quant = {});

  void set_op(OpCode code, OpOptions options = {}) {
    op_.code = static_cast<int32_t>(code);
    op_.options = std::move(options);
  }
  void set_custom_op(const std::string& name, std::vector<uint8_t> custom_options) {
    op_.code = static_cast<int32_t>(OpCode::kCustom);
    op_.custom_code = name;
    op_.custom_options = std::move(custom_options);
  }
  // The op's version, as the model's operator code gives it (default 1).
  void set_version(int version) { op_.version = version; }

  // Float tolerance of the backend comparison (default kAccumulated).
  void set_tolerance(Tolerance tolerance) { tolerance_ = tolerance; }
  // Thread counts each backend runs the op with (default {1}).
  void set_threads(std::vector<int> threads) { threads_ = std::move(threads); }
  // run() fails the test unless `implementation` (kXnnpack, kOspreyAvx512)
  // ran the op on at least one backend.
  void expect_claim(const std::string& implementation) { expected_claims_.insert(implementation); }

  // Prepares and evaluates on the reference kernel; throws osprey::Error as
  // prepare does. Then runs and compares the backends (gtest failures).
  void run();

  // Implementations that ran the op in run() (empty: reference kernels only).
  const std::set<std::string>& claims() const { return claims_; }
  bool claimed_by(const std::string& implementation) const { return claims_.count(implementation) > 0; }

  const Tensor& output(int i = 0) const;
  template <typename T>
  std::vector<T> output_values(int i = 0) const {
    const Tensor& t = output(i);
    std::vector<T> v(static_cast<size_t>(t.num_elements()));
    if (!v.empty()) std::memcpy(v.data(), t.data, v.size() * sizeof(T));
    return v;
  }
  Shape output_shape(int i = 0) const { return output(i).shape; }

 private:
  void run_reference();
  void run_backend(const std::string& backend, int threads);

  Graph graph_;
  Op op_;
  std::vector<std::string> backends_;
  std::vector<int> threads_{1};
  Tolerance tolerance_ = Tolerance::kAccumulated;
  std::set<std::string> expected_claims_;
  std::set<std::string> claims_;
};

// `n` seeded random floats uniform in [-scale, scale] (inputs of generated sweeps).
std::vector<float> uniform_floats(int64_t n, std::mt19937& rng, float scale = 1.0f);

// Runs `t` expecting an osprey::Error whose message contains `needle`.
void expect_error(OpTester& t, const std::string& needle);

// What check_model expects of the backends' plans.
enum class Expect {
  kDelegated,  // every op claimed (reshapes alone may stay on the reference kernels)
  kReference,  // no op claimed
  kMixed,      // some ops claimed, some not
};

// Runs a whole model on the reference kernels and on every test_backends()
// entry (1 and 2 threads, one op per runtime and whole runs) with the same
// seeded inputs, twice, and compares every output.
void check_model(const std::vector<uint8_t>& bytes, Tolerance tolerance, Expect expect = Expect::kDelegated);

}  // namespace osprey::testing
