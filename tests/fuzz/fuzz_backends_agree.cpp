// libFuzzer target, differential: any bytes that load as a small model run
// on the reference kernels and on the default backend stack (osprey's int8
// kernels, XNNPACK) with the same seeded inputs, and their integer outputs
// (int8, uint8, int32) must agree within 1, the rounding TFLite's spec lets
// an optimised kernel differ by. A backend that loads a model it then
// computes differently is what "the accelerator silently returns wrong
// numbers" looks like on a CPU. Float outputs are not compared: a fuzzed
// weight of 1e29 makes the order of a sum decide its result, and the
// backends sum in different orders.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "backends/backend.h"
#include "model_fuzzing.h"
#include "runtime/interpreter.h"

namespace {

osprey::InterpreterOptions fuzz_options(osprey::InterpreterOptions options = {}) {
  return osprey::fuzzing::untrusted(size_t{1} << 26, options);
}

void fill(osprey::Tensor& t, uint32_t seed) {
  std::mt19937 rng(seed);
  if (t.type == osprey::DType::kFloat32) {
    std::uniform_real_distribution<float> u(-4.0f, 4.0f);
    for (int64_t i = 0; i < t.num_elements(); ++i) t.data_as<float>()[i] = u(rng);
    return;
  }
  for (size_t i = 0; i < t.num_bytes(); ++i) t.data[i] = static_cast<uint8_t>(rng());
}

// Element i of an integer output; false for the types not compared.
bool value(const osprey::Tensor& t, int64_t i, int64_t& v) {
  switch (t.type) {
    case osprey::DType::kInt8: v = t.data_as<int8_t>()[i]; return true;
    case osprey::DType::kUInt8: v = t.data_as<uint8_t>()[i]; return true;
    case osprey::DType::kInt32: v = t.data_as<int32_t>()[i]; return true;
    default: return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const osprey::BackendStack backends = osprey::make_backends(osprey::kDefaultBackend, 1);
  const std::vector<uint8_t> bytes(data, data + size);
  std::unique_ptr<osprey::Interpreter> ref, fast;
  try {
    ref = osprey::Interpreter::from_buffer(bytes, "ref", fuzz_options());
    if (ref->arena_bytes() >= (size_t{4} << 20) || ref->total_macs() > 4'000'000) return 0;
    fast = osprey::Interpreter::from_buffer(bytes, "fast", fuzz_options(backends.options()));
    for (int i = 0; i < ref->num_inputs(); ++i) {
      fill(ref->input(i), 11 + static_cast<uint32_t>(i));
      fill(fast->input(i), 11 + static_cast<uint32_t>(i));
    }
    ref->invoke();
    fast->invoke();
  } catch (const osprey::KernelOverrun& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::abort();
  } catch (const osprey::Error&) {
    return 0;
  }
  for (int o = 0; o < ref->num_outputs(); ++o) {
    const osprey::Tensor& a = ref->output(o);
    const osprey::Tensor& b = fast->output(o);
    if (a.type != b.type || a.shape != b.shape) {
      std::fprintf(stderr, "output %d: the backends give different types or shapes\n", o);
      std::abort();
    }
    for (int64_t i = 0; i < a.num_elements(); ++i) {
      int64_t x = 0, y = 0;
      if (!value(a, i, x) || !value(b, i, y)) break;
      if (std::abs(x - y) > 1) {
        std::fprintf(stderr, "output %d element %lld: reference kernels %lld, default backends %lld\n", o,
                     static_cast<long long>(i), static_cast<long long>(x), static_cast<long long>(y));
        std::abort();
      }
    }
  }
  return 0;
}
