// OSPREY_AVX512_INT8 (backends/avx512/int8_cpu.h): each level's name forces
// that level where the CPU has it, a higher one than the CPU has stays capped
// at the CPU's, and anything else is a one-line error.
#include <gtest/gtest.h>

#include "backends/avx512/int8_cpu.h"
#include "core/error.h"
#include "kernels/int8_avx512_levels.h"

namespace osprey {
namespace {

TEST(Int8Levels, NamesForceTheLevelsTheCpuHas) {
  const Int8Level cpu = int8_cpu_level();
  for (Int8Level level :
       {Int8Level::kNone, Int8Level::kAvx2, Int8Level::kAvx512, Int8Level::kVnni, Int8Level::kVnniVbmi}) {
    LevelScope scope(level);
    const Int8Level expected = static_cast<int>(level) <= static_cast<int>(cpu) ? level : cpu;
    EXPECT_EQ(int8_level(), expected) << int8_level_name(level);
  }
  EXPECT_STREQ(int8_level_name(Int8Level::kAvx2), "avx2");
}

TEST(Int8Levels, TheTestedLevelsAreTheCpusAndBelow) {
  const std::vector<Int8Level> tested = levels();
  ASSERT_FALSE(tested.empty());
  EXPECT_EQ(tested.front(), int8_cpu_level());
  // A CPU with AVX-512 runs the AVX2 kernels too, so they are tested there.
  if (int8_cpu_level() != Int8Level::kNone) {
    EXPECT_EQ(tested.back(), Int8Level::kAvx2);
  }
}

TEST(Int8Levels, AnUnknownNameIsAnError) {
  LevelScope scope(Int8Level::kNone);
  setenv("OSPREY_AVX512_INT8", "sse4", 1);
  EXPECT_THROW(int8_level(), Error);
}

}  // namespace
}  // namespace osprey
