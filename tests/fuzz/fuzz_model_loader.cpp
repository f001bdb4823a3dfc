// libFuzzer target: any bytes through the loader, prepare and (small) runs,
// on the reference kernels and on the default backend stack (what `osprey
// run`, `detect`, `segment` and ospreyd use).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "backends/backend.h"
#include "model_fuzzing.h"
#include "runtime/interpreter.h"

namespace {

void load_and_run(const uint8_t* data, size_t size, osprey::InterpreterOptions options) {
  try {
    auto interp = osprey::Interpreter::from_buffer(std::vector<uint8_t>(data, data + size), "fuzz",
                                                   osprey::fuzzing::untrusted(size_t{1} << 30, options));
    // Runs stay small so the 45 s of `make test` fuzz rather than run the
    // zoo-sized seeds (those load and prepare; the malformed tests run them).
    if (interp->arena_bytes() < (size_t{16} << 20) && interp->total_macs() <= 8'000'000) interp->invoke();
  } catch (const osprey::KernelOverrun& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::abort();
  } catch (const osprey::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One thread: the same input takes the same path every time.
  static const osprey::BackendStack backends = osprey::make_backends(osprey::kDefaultBackend, 1);
  load_and_run(data, size, {});
  load_and_run(data, size, backends.options());
  return 0;
}
