// libFuzzer target: any bytes through the .npy reader (`osprey run --input`,
// `osprey quantize --calibration`, the LiteRT comparisons). What it accepts
// must hold together: no negative dimension, and exactly the bytes the shape
// and type need; and what it accepts, written back, reads the same.
#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  osprey::NpyArray a;
  try {
    a = osprey::parse_npy(data, size);
  } catch (const osprey::Error&) {
    return 0;
  }
  int64_t elements = 1;
  for (const int32_t d : a.shape) {
    if (d < 0) {
      std::fprintf(stderr, "accepted a negative dimension %d\n", d);
      std::abort();
    }
    elements *= d;
  }
  if (a.data.size() != static_cast<size_t>(elements) * osprey::dtype_size(a.type)) {
    std::fprintf(stderr, "accepted %zu bytes for %lld elements\n", a.data.size(),
                 static_cast<long long>(elements));
    std::abort();
  }
  static const std::string path = "/tmp/fuzz_npy_reader." + std::to_string(getpid()) + ".npy";
  osprey::write_npy(path, a.type, a.shape, a.data.data());
  const osprey::NpyArray b = osprey::read_npy(path);
  std::remove(path.c_str());
  if (b.type != a.type || b.shape != a.shape || b.data != a.data) {
    std::fprintf(stderr, "written back, it reads differently\n");
    std::abort();
  }
  return 0;
}
