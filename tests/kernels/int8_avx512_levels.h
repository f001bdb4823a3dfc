// What the tests of osprey's int8 AVX-512 kernels share: forcing a CPU level
// (int8_cpu.h) for one scope, and the levels this machine can run.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

#include "backends/avx512/int8_cpu.h"

namespace osprey {

// Sets OSPREY_AVX512_INT8 for one scope.
class LevelScope {
 public:
  explicit LevelScope(Int8Level level) {
    const char* v = std::getenv("OSPREY_AVX512_INT8");
    if (v) before_ = v, had_ = true;
    setenv("OSPREY_AVX512_INT8", int8_level_name(level), 1);
  }
  ~LevelScope() {
    if (had_) {
      setenv("OSPREY_AVX512_INT8", before_.c_str(), 1);
    } else {
      unsetenv("OSPREY_AVX512_INT8");
    }
  }

 private:
  std::string before_;
  bool had_ = false;
};

// The levels this CPU runs (the lower ones forced through OSPREY_AVX512_INT8);
// none alone without AVX2.
inline std::vector<Int8Level> levels() {
  std::vector<Int8Level> all;
  if (int8_cpu_level() == Int8Level::kNone) return {Int8Level::kNone};
  for (Int8Level l : {Int8Level::kVnni, Int8Level::kAvx512, Int8Level::kAvx2}) {
    if (static_cast<int>(l) <= static_cast<int>(int8_cpu_level())) all.push_back(l);
  }
  return all;
}

}  // namespace osprey
