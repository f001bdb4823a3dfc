// What the tests of osprey's int8 AVX-512 kernels share: forcing a CPU level
// (int8_cpu.h) for one scope, the levels this machine can run, and running an
// op on each of them against the reference.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "backends/avx512/int8_cpu.h"
#include "kernels/env_scope.h"
#include "kernels/op_tester.h"

namespace osprey {

// Sets OSPREY_AVX512_INT8 for one scope.
class LevelScope {
 public:
  explicit LevelScope(Int8Level level) : env_("OSPREY_AVX512_INT8", int8_level_name(level)) {}

 private:
  testing::EnvScope env_;
};

// The levels this CPU runs (the lower ones forced through OSPREY_AVX512_INT8);
// none alone without AVX2.
inline std::vector<Int8Level> levels() {
  std::vector<Int8Level> all;
  if (int8_cpu_level() == Int8Level::kNone) return {Int8Level::kNone};
  for (Int8Level l : {Int8Level::kVnniVbmi, Int8Level::kVnni, Int8Level::kAvx512, Int8Level::kAvx2}) {
    if (static_cast<int>(l) <= static_cast<int>(int8_cpu_level())) all.push_back(l);
  }
  return all;
}

// Runs the op `t` holds at `level`: every output must equal the reference
// kernel's bit for bit, and osprey-avx512 must claim the op when `claim`
// (and nothing may, when not).
inline void run_exact_at(testing::OpTester& t, Int8Level level, bool claim) {
  t.set_tolerance(testing::Tolerance::kExact);
  if (claim) t.expect_claim(testing::kOspreyAvx512);
  LevelScope level_scope(level);
  t.run();
  if (!claim) {
    EXPECT_TRUE(t.claims().empty()) << "expected the reference kernels to run it";
  }
}

// Calls run(level, T{}) for every level, T int8_t or uint8_t.
template <typename F>
void on_every_level(bool is_signed, const F& run) {
  for (Int8Level level : levels()) {
    if (is_signed) {
      run(level, int8_t{});
    } else {
      run(level, uint8_t{});
    }
  }
}

}  // namespace osprey
