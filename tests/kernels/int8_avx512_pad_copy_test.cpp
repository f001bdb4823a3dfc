// Generated sweeps around osprey's int8 AVX-512 PAD copy (make_int8_pad,
// backends/avx512/int8_pad.cpp): pads of height, width and channels, before
// and after, channel counts below, at and above 64 bytes, int8 and uint8 with
// zero points at the ends of each range, PAD and PADV2, one and two threads,
// on each CPU level this machine has. Every output must equal the reference
// kernel's bit for bit; a PADV2 whose value is not the zero point, a batch
// pad and the AVX2 level stay with the other kernels.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "backends/avx512/int8_cpu.h"
#include "kernels/int8_avx512_levels.h"
#include "kernels/op_tester.h"
#include "kernels/quant_kernel_helpers.h"

namespace osprey {
namespace {

using namespace quant_test;
using testing::OpTester;

struct PadCase {
  Shape input{1, 4, 5, 24};
  std::vector<int32_t> pads{0, 0, 0, 0, 0, 0, 0, 4};  // [4, 2]
  bool is_signed = true;
  int32_t zp = 3;
  bool padv2 = false;
  int32_t value_offset = 0;  // PADV2: its value minus the zero point
  int threads = 1;
};

std::string describe(const PadCase& c) {
  return fmt::format("PAD{} {} by {} {} zp {} value +{} threads {}", c.padv2 ? "V2" : "", shape_str(c.input),
                     fmt::join(c.pads, ","), c.is_signed ? "int8" : "uint8", c.zp, c.value_offset, c.threads);
}

template <typename T>
void run_pad(const PadCase& c, Int8Level level) {
  SCOPED_TRACE(fmt::format("{} at {}", describe(c), int8_level_name(level)));
  std::mt19937 rng(static_cast<uint32_t>(num_elements(c.input) * 5 + c.pads[7] + c.pads[3]));
  OpTester t({testing::kOspreyAvx512});
  t.add_input<T>(c.input, random_q<T>(rng, num_elements(c.input)), false, per_tensor(0.02f, c.zp));
  t.add_input<int32_t>({4, 2}, c.pads, true);
  if (c.padv2) t.add_input<T>({1}, {static_cast<T>(c.zp + c.value_offset)}, true, per_tensor(0.02f, c.zp));
  t.add_output(dtype_of<T>(), {}, per_tensor(0.02f, c.zp));
  t.set_op(c.padv2 ? OpCode::kPadV2 : OpCode::kPad);
  t.set_threads({c.threads});
  const bool claimed = level >= Int8Level::kAvx512 && c.value_offset == 0 && c.pads[0] == 0 && c.pads[1] == 0;
  run_exact_at(t, level, claimed);
}

void check(const PadCase& c) {
  on_every_level(c.is_signed, [&](Int8Level level, auto type) { run_pad<decltype(type)>(c, level); });
}

TEST(Int8Avx512PadCopy, PadsChannelsZeroPoints) {
  const std::vector<std::vector<int32_t>> pads = {
      {0, 0, 0, 0, 0, 0, 0, 4},  // channels after (BlazeFace's residual widening)
      {0, 0, 0, 0, 0, 0, 3, 1},  // channels on both sides
      {0, 0, 1, 2, 3, 0, 0, 0},  // height and width only
      {0, 0, 2, 1, 1, 2, 0, 40}  // everything but the batch
  };
  int i = 0;
  for (int channels : {1, 16, 24, 63, 64, 65, 130}) {
    for (const auto& p : pads) {
      for (bool is_signed : {true, false}) {
        PadCase c;
        c.input = {i % 3 == 0 ? 2 : 1, 3, 4, channels};
        c.pads = p;
        c.is_signed = is_signed;
        const int32_t lo = is_signed ? -128 : 0;
        c.zp = i % 3 == 0 ? lo : i % 3 == 1 ? lo + 255 : lo + 77;
        c.padv2 = i % 2 == 1;
        check(c);
        ++i;
      }
    }
  }
}

TEST(Int8Avx512PadCopy, TwoThreadsAndWhatStays) {
  PadCase big;
  big.input = {1, 40, 33, 28};
  big.pads = {0, 0, 1, 1, 0, 0, 0, 4};
  big.threads = 2;
  check(big);
  PadCase other_value;  // PADV2 filling with another value
  other_value.padv2 = true;
  other_value.value_offset = 1;
  check(other_value);
  PadCase batch;
  batch.pads = {1, 0, 0, 0, 0, 0, 0, 0};
  check(batch);
}

}  // namespace
}  // namespace osprey
