// libFuzzer target: any bytes through the loader, prepare and (small) runs.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/interpreter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto interp = osprey::Interpreter::from_buffer(std::vector<uint8_t>(data, data + size), "fuzz");
    if (interp->arena_bytes() < (size_t{16} << 20)) interp->invoke();
  } catch (const osprey::Error&) {
  }
  return 0;
}
