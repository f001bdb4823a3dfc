// libFuzzer target: any bytes through the ONNX importer (parse, checker, shape
// inference, conversion) and the .tflite loader it feeds.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "onnx/import.h"
#include "runtime/interpreter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto bytes = osprey::onnx::convert_onnx_bytes(std::span<const uint8_t>(data, size), "");
    osprey::InterpreterOptions options;
    options.guard_bytes = 64;  // a kernel's overrun is a crash, not a rejection
    auto interp = osprey::Interpreter::from_buffer(std::move(bytes), "fuzz", options);
    if (interp->arena_bytes() < (size_t{16} << 20)) interp->invoke();
  } catch (const osprey::KernelOverrun& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::abort();
  } catch (const osprey::Error&) {
  }
  return 0;
}
