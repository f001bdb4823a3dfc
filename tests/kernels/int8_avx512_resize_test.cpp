// Generated sweeps around osprey's int8 AVX-512 RESIZE_BILINEAR
// (backends/avx512/int8_resize.cpp): up- and down-scaling by whole and odd
// factors in each coordinate convention, channels below, at and above the
// vector (16 lanes) and the 8 and 16 it runs several pixels a step (whole
// and partial last groups, taps near and far apart), batches, int8 and uint8 with zero points at the ends of
// each range, one and two threads, on each CPU level this machine has. Every
// output must equal the integer reference kernel's bit for bit; at the AVX2
// level and with the TFLite arithmetics the reference kernels (or XNNPACK)
// keep the op.
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

struct ResizeCase {
  Shape input{1, 5, 7, 16};
  int32_t height = 10, width = 14;
  bool align = false, half = true;
  bool is_signed = true;
  int32_t zp = 3;
  Arithmetic arithmetic = Arithmetic::kLiteRT;
  int threads = 1;
};

std::string describe(const ResizeCase& c) {
  return fmt::format("RESIZE_BILINEAR {} -> {}x{} align {} half {} {} zp {} arith {} threads {}",
                     shape_str(c.input), c.height, c.width, c.align, c.half, c.is_signed ? "int8" : "uint8",
                     c.zp, quant::arithmetic_name(c.arithmetic), c.threads);
}

template <typename T>
void run_resize(const ResizeCase& c, Int8Level level) {
  SCOPED_TRACE(fmt::format("{} at {}", describe(c), int8_level_name(level)));
  std::mt19937 rng(static_cast<uint32_t>(num_elements(c.input) * 7 + c.height * 3 + c.width));
  OpTester t({testing::kOspreyAvx512});
  t.add_input<T>(c.input, random_q<T>(rng, num_elements(c.input)), false, per_tensor(0.03f, c.zp));
  t.add_input<int32_t>({2}, {c.height, c.width}, true);
  t.add_output(dtype_of<T>(), {}, per_tensor(0.03f, c.zp));
  t.set_op(OpCode::kResizeBilinear, ResizeOptions{c.align, c.half});
  t.set_threads({c.threads});
  ArithmeticScope arithmetic_scope(c.arithmetic);
  const bool claimed = level >= Int8Level::kAvx512 && c.arithmetic == Arithmetic::kLiteRT;
  run_exact_at(t, level, claimed);
}

void check(const ResizeCase& c) {
  on_every_level(c.is_signed, [&](Int8Level level, auto type) { run_resize<decltype(type)>(c, level); });
}

TEST(Int8Avx512Resize, ScalesConventionsChannels) {
  struct Size {
    Shape input;
    int32_t height, width;
  };
  const Size sizes[] = {{{1, 5, 7, 16}, 10, 14},  // x2
                        {{1, 4, 4, 3}, 13, 9},    // odd factors up
                        {{1, 12, 9, 17}, 5, 4},   // down
                        {{2, 3, 5, 33}, 6, 10},   // batches
                        {{1, 1, 1, 64}, 3, 2},    // one source pixel
                        {{1, 6, 8, 65}, 6, 8},    // same size
                        {{1, 2, 9, 1}, 1, 1},     // one output pixel
                        // 8 and 16 channels, output pixels in groups of 32 bytes:
                        {{1, 6, 9, 8}, 12, 17},   // x2, a last group of one pixel
                        {{1, 5, 11, 16}, 9, 21},  // odd factors up, a last group of one
                        {{2, 3, 5, 8}, 7, 10},    // batches, a last group of two
                        {{1, 6, 12, 8}, 5, 8},    // down by 1.5: a group's taps within 64 bytes
                        {{1, 4, 10, 16}, 3, 7},   // down: a group's taps within 64 bytes or not
                        {{1, 7, 40, 8}, 4, 10},   // down by 4: taps too far apart, a pixel at a time
                        {{1, 3, 1, 8}, 5, 6}};    // one source column
  int i = 0;
  for (const Size& s : sizes) {
    for (const auto& [align, half] : {std::pair{false, false}, {true, false}, {false, true}}) {
      for (bool is_signed : {true, false}) {
        ResizeCase c;
        c.input = s.input;
        c.height = s.height;
        c.width = s.width;
        c.align = align;
        c.half = half;
        c.is_signed = is_signed;
        const int32_t lo = is_signed ? -128 : 0;
        c.zp = i % 3 == 0 ? lo : i % 3 == 1 ? lo + 255 : lo + 100;
        check(c);
        ++i;
      }
    }
  }
}

TEST(Int8Avx512Resize, TwoThreadsAndOtherArithmetics) {
  ResizeCase c;
  c.input = {1, 17, 23, 24};
  c.height = 34;
  c.width = 46;
  c.threads = 2;
  check(c);
  for (Arithmetic a : {Arithmetic::kTfliteSingle, Arithmetic::kTfliteDouble}) {
    ResizeCase t;
    t.arithmetic = a;
    check(t);
  }
}

}  // namespace
}  // namespace osprey
