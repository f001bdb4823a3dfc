#include "kernels/op_tester.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "backends/backend.h"
#include "backends/thread_pool.h"
#include "backends/xnnpack/xnnpack_delegate.h"
#include "io/random_fill.h"
#include "model/writer.h"

#include "ops/registry.h"

namespace osprey::testing {

const std::vector<std::string>& test_backends() {
  // Each implementation alone, so a case shows which one ran it; the default
  // stack is only these two in order.
  static const std::vector<std::string> names{kOspreyAvx512, kXnnpack};
  return names;
}

TestBackend make_test_backend(const std::string& name, int threads, bool whole_runs) {
  TestBackend b;
  if (name == kXnnpack && !whole_runs) {
    XnnpackOptions xo;
    xo.max_ops_per_runtime = 1;
    b.stack.add(std::make_unique<XnnpackDelegate>(xo, make_thread_pool(threads)));
  } else {
    b.stack = make_backends(name, threads);  // throws for unknown names
  }
  b.options = b.stack.options();
  b.options.guard_bytes = kGuardBytes;
  return b;
}

namespace {

// The implementation behind a delegated run's plan name: "XNNPACK(...)",
// "OSPREY(...)" (depthwise), "OSPREY-SPARSE(...)" (sparse 1x1 conv),
// "OSPREY-INT8(...)" (int8 convolutions).
std::string implementation_of_run(const std::string& run_name) {
  const std::string prefix = run_name.substr(0, run_name.find('('));
  if (prefix == "XNNPACK") return kXnnpack;
  if (prefix == "OSPREY" || prefix == "OSPREY-SPARSE" || prefix == "OSPREY-INT8") return kOspreyAvx512;
  return prefix;
}

// Counts of cases per backend and claiming implementation, printed at exit
// when OSPREY_OPTESTER_STATS is set (to measure what the sweeps cover).
struct Stats {
  std::map<std::string, int> counts;
  ~Stats() {
    if (!std::getenv("OSPREY_OPTESTER_STATS")) return;
    for (const auto& [key, n] : counts) std::fprintf(stderr, "optester %s: %d\n", key.c_str(), n);
  }
};
Stats& stats() {
  static Stats s;
  return s;
}

bool quantized_integer(const Tensor& t) {
  return !t.quant.empty() && (t.type == DType::kInt8 || t.type == DType::kUInt8 || t.type == DType::kInt16);
}

template <typename T>
int64_t integer_at(const Tensor& t, int64_t k) {
  return static_cast<int64_t>(t.data_as<T>()[k]);
}

int64_t integer_value(const Tensor& t, int64_t k) {
  switch (t.type) {
    case DType::kInt8: return integer_at<int8_t>(t, k);
    case DType::kUInt8: return integer_at<uint8_t>(t, k);
    case DType::kInt16: return integer_at<int16_t>(t, k);
    case DType::kInt32: return integer_at<int32_t>(t, k);
    case DType::kInt64: return integer_at<int64_t>(t, k);
    case DType::kBool: return integer_at<bool>(t, k) ? 1 : 0;
    default: return 0;
  }
}

// Compares a backend's output with the reference's; gtest failures name `what`.
void expect_close(const Tensor& ref, const Tensor& got, Tolerance tolerance, const std::string& what) {
  ASSERT_EQ(ref.type, got.type) << what;
  ASSERT_EQ(ref.shape, got.shape) << what;
  const int64_t n = ref.num_elements();
  if (tolerance == Tolerance::kExact) {
    const size_t size = dtype_size(ref.type);
    for (int64_t k = 0; k < n; ++k) {
      const size_t at = static_cast<size_t>(k) * size;
      ASSERT_EQ(0, std::memcmp(ref.data + at, got.data + at, size))
          << what << " element " << k << ": ref " << integer_value(ref, k) << " backend "
          << integer_value(got, k);
    }
    return;
  }
  if (ref.type == DType::kFloat32) {
    const float* x = ref.data_as<float>();
    const float* y = got.data_as<float>();
    double max_ref = 0, max_diff = 0;
    int64_t worst = 0;
    for (int64_t k = 0; k < n; ++k) {
      if (std::isnan(x[k]) || std::isnan(y[k]) || std::isinf(x[k]) || std::isinf(y[k])) {
        ASSERT_TRUE((std::isnan(x[k]) && std::isnan(y[k])) || x[k] == y[k])
            << what << " element " << k << ": ref " << x[k] << " backend " << y[k];
        continue;
      }
      const double diff = std::fabs(static_cast<double>(x[k]) - y[k]);
      max_ref = std::max(max_ref, static_cast<double>(std::fabs(x[k])));
      if (diff > max_diff) max_diff = diff, worst = k;
      if (tolerance == Tolerance::kElementwise) {
        ASSERT_LE(diff, 3e-6 * std::fabs(x[k]) + 1e-30)
            << what << " element " << k << ": ref " << x[k] << " backend " << y[k];
      }
    }
    EXPECT_LE(max_diff, 1e-5 * std::max(1.0, max_ref))
        << what << " element " << worst << ": ref " << x[worst] << " backend " << y[worst];
    return;
  }
  if (ref.type == DType::kFloat16 || ref.type == DType::kFloat64) {
    ASSERT_EQ(0, std::memcmp(ref.data, got.data, ref.num_bytes())) << what;
    return;
  }
  const int64_t bound = quantized_integer(ref) ? 1 : 0;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t a = integer_value(ref, k), b = integer_value(got, k);
    ASSERT_LE(std::llabs(a - b), bound) << what << " element " << k << ": ref " << a << " backend " << b;
  }
}

}  // namespace

std::map<std::string, int> claims_of(const Interpreter& interp) {
  std::map<std::string, int> claims;
  for (const OpInfo& info : interp.plan_info()) {
    if (info.index < 0) ++claims[implementation_of_run(info.name)];
  }
  return claims;
}

OpTester::OpTester() : backends_(test_backends()) {}

OpTester::OpTester(std::vector<std::string> backends) : backends_(std::move(backends)) {
  std::erase(backends_, std::string("ref"));
}

int OpTester::add_raw_input(DType type, const Shape& shape, const std::vector<uint8_t>& bytes, bool constant,
                            Quantization quant) {
  Tensor t;
  t.type = type;
  t.shape = shape;
  t.quant = std::move(quant);
  t.name = fmt::format("in{}", graph_.tensors.size());
  graph_.tensors.push_back(t);
  Tensor& stored = graph_.tensors.back();
  graph_.allocate_constant(stored);
  stored.is_constant = constant;
  const size_t size = std::min(bytes.size(), stored.num_bytes());
  if (size > 0) std::memcpy(stored.data, bytes.data(), size);  // an empty tensor may have no data
  op_.inputs.push_back(static_cast<int>(graph_.tensors.size()) - 1);
  return static_cast<int>(graph_.tensors.size()) - 1;
}

int OpTester::add_output(DType type, Shape declared, Quantization quant) {
  Tensor t;
  t.type = type;
  t.shape = std::move(declared);
  t.quant = std::move(quant);
  t.name = fmt::format("out{}", op_.outputs.size());
  graph_.tensors.push_back(t);
  op_.outputs.push_back(static_cast<int>(graph_.tensors.size()) - 1);
  return static_cast<int>(graph_.tensors.size()) - 1;
}

void OpTester::run_reference() {
  // set_custom_op keeps the bytes; the op registry parses them here, as the loader does.
  if (op_.code == static_cast<int32_t>(OpCode::kCustom))
    op_.options = ops::parse_options(op_.code, op_.custom_code, {nullptr, op_.custom_options});
  std::unique_ptr<Kernel> kernel = reference_op_resolver().create(op_);
  OSPREY_CHECK(kernel != nullptr, "no reference kernel for {}", op_.name());
  KernelContext ctx(graph_, op_);
  kernel->prepare(ctx);
  for (int o : op_.outputs) {
    Tensor& t = graph_.tensors[static_cast<size_t>(o)];
    graph_.allocate_constant(t);
    t.is_constant = false;
  }
  kernel->eval(ctx);
}

void OpTester::run() {
  claims_.clear();
  run_reference();
  // The one-op model: its non-constant inputs are the model's inputs.
  graph_.ops = {op_};
  graph_.inputs.clear();
  for (int t : op_.inputs) {
    if (t >= 0 && !graph_.tensors[static_cast<size_t>(t)].is_constant &&
        std::find(graph_.inputs.begin(), graph_.inputs.end(), t) == graph_.inputs.end()) {
      graph_.inputs.push_back(t);
    }
  }
  graph_.outputs = op_.outputs;
  for (const std::string& backend : backends_) {
    for (int threads : threads_) {
      SCOPED_TRACE(fmt::format("{} on backend {}, {} thread(s)", op_.name(), backend, threads));
      run_backend(backend, threads);
    }
  }
  ++stats().counts["cases"];
  for (const std::string& c : claims_) ++stats().counts["claimed by " + c];
  for (const std::string& c : expected_claims_) {
    EXPECT_TRUE(claimed_by(c)) << op_.name() << " was expected to run on " << c << " but stayed on "
                               << (claims_.empty() ? std::string("the reference kernels")
                                                   : fmt::format("{}", fmt::join(claims_, ", ")));
  }
}

void OpTester::run_backend(const std::string& backend, int threads) {
  // A .tflite cannot hold an empty constant (an empty buffer means "no data").
  for (int t : op_.inputs) {
    const Tensor& in = graph_.tensors[static_cast<size_t>(std::max(t, 0))];
    if (t >= 0 && in.is_constant && in.num_elements() == 0) {
      ++stats().counts["not writable"];
      return;
    }
  }
  std::vector<uint8_t> bytes;
  try {
    bytes = write_tflite(graph_);
  } catch (const Error& e) {
    // Graphs a .tflite cannot hold (e.g. sparse constants) reach no backend.
    ++stats().counts["not writable"];
    EXPECT_TRUE(expected_claims_.empty()) << "cannot write the op for the backends: " << e.what();
    return;
  }
  TestBackend stack = make_test_backend(backend, threads);
  std::unique_ptr<Interpreter> interp;
  try {
    interp = Interpreter::from_buffer(std::move(bytes), "op", stack.options);
  } catch (const Error& e) {
    ADD_FAILURE() << "the reference kernel ran the op, loading it on " << backend << " failed: " << e.what();
    return;
  }
  for (const auto& [implementation, runs] : claims_of(*interp)) claims_.insert(implementation);
  ASSERT_EQ(interp->num_inputs(), static_cast<int>(graph_.inputs.size()));
  for (int i = 0; i < interp->num_inputs(); ++i) {
    const Tensor& src = graph_.tensors[static_cast<size_t>(graph_.inputs[static_cast<size_t>(i)])];
    Tensor& dst = interp->input(i);
    ASSERT_EQ(src.num_bytes(), dst.num_bytes());
    if (src.num_bytes() > 0) std::memcpy(dst.data, src.data, src.num_bytes());
  }
  try {
    interp->invoke();
  } catch (const Error& e) {
    // Not rethrown: a test expecting the reference kernel's error must not pass on a backend's.
    ADD_FAILURE() << "the reference kernel ran the op, running it on " << backend << " failed: " << e.what();
    return;
  }
  ASSERT_EQ(interp->num_outputs(), static_cast<int>(op_.outputs.size()));
  for (int o = 0; o < interp->num_outputs(); ++o) {
    expect_close(output(o), interp->output(o), tolerance_, fmt::format("output {}", o));
  }
}

const Tensor& OpTester::output(int i) const {
  return graph_.tensors[static_cast<size_t>(op_.outputs[static_cast<size_t>(i)])];
}

std::vector<float> uniform_floats(int64_t n, std::mt19937& rng, float scale) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

void expect_error(OpTester& t, const std::string& needle) {
  try {
    t.run();
    ADD_FAILURE() << "no error; expected one mentioning \"" << needle << "\"";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

void check_model(const std::vector<uint8_t>& bytes, Tolerance tolerance, Expect expect) {
  InterpreterOptions guarded;
  guarded.guard_bytes = kGuardBytes;
  auto ref = Interpreter::from_buffer(bytes, "ref", guarded);
  // XNNPACK alone, and the default stack users run (osprey's AVX-512 kernels first).
  for (const std::string backend : {kXnnpack, kDefaultBackend}) {
    // One runtime per op on 1 and 2 threads, one per run of ops.
    for (auto [threads, whole_runs] : {std::pair{1, false}, {2, false}, {1, true}}) {
      SCOPED_TRACE(fmt::format("backend {}, {} thread(s), {}", backend, threads,
                               whole_runs ? "whole runs" : "one op per runtime"));
      TestBackend stack = make_test_backend(backend, threads, whole_runs);
      auto other = Interpreter::from_buffer(bytes, backend, stack.options);
      // Reshapes alone in a runtime are left to the reference kernels (a copy either way).
      const auto& plan = other->plan_info();
      const bool all_delegated = std::all_of(plan.begin(), plan.end(), [](const OpInfo& info) {
        return info.index < 0 || info.name == "RESHAPE" || info.name == "SQUEEZE" ||
               info.name == "EXPAND_DIMS";
      });
      const bool none_delegated =
          std::none_of(plan.begin(), plan.end(), [](const OpInfo& info) { return info.index < 0; });
      if (expect == Expect::kDelegated) {
        EXPECT_TRUE(all_delegated) << "expected every op on " << backend;
      } else if (expect == Expect::kMixed) {
        EXPECT_TRUE(!all_delegated && !none_delegated) << "expected ops on both backends";
      } else {
        EXPECT_TRUE(none_delegated) << "expected the op on the reference kernels";
      }

      ASSERT_EQ(ref->num_inputs(), other->num_inputs());
      // Twice: the second run reuses the pointers bound on the first. Inputs are
      // filled again each time (the arena may reuse an input's bytes once read).
      for (int run = 0; run < 2; ++run) {
        std::mt19937 rng_ref(42 + run), rng_other(42 + run);
        for (int i = 0; i < ref->num_inputs(); ++i) {
          fill_random(ref->input(i), rng_ref);
          fill_random(other->input(i), rng_other);
        }
        ref->invoke();
        other->invoke();
      }
      ASSERT_EQ(ref->num_outputs(), other->num_outputs());
      for (int o = 0; o < ref->num_outputs(); ++o) {
        expect_close(ref->output(o), other->output(o), tolerance, fmt::format("output {}", o));
      }
    }
  }
}

}  // namespace osprey::testing
