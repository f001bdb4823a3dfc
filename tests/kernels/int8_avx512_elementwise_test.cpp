// Generated sweeps around osprey's int8 AVX-512 elementwise kernels
// (backends/avx512/int8_prelu.cpp, int8_table.cpp): PRELU over sizes below, at and
// above the vector (16 lanes) with every alpha shape the kernel takes, and
// the table kernel for each one-input op it takes; int8 and uint8, zero
// points at the ends of each type's range, every arithmetic of the reference
// kernels, on each CPU level this machine has. Every output must equal the
// integer reference kernel's bit for bit, and what the kernels do not take
// must stay with the reference kernels.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "backends/avx512/int8_cpu.h"
#include "kernels/int8_avx512_levels.h"
#include "kernels/int8_binary_case.h"
#include "kernels/op_tester.h"
#include "kernels/quant_kernel_helpers.h"

namespace osprey {
namespace {

using namespace quant_test;
using testing::kOspreyAvx512;
using testing::OpTester;

struct PreluCase {
  Shape input{1, 3, 5, 16};
  Shape alpha{1, 1, 16};
  bool alpha_constant = true;
  bool is_signed = true;
  int32_t input_zp = 3, alpha_zp = -20, output_zp = -5;
  float input_scale = 0.05f, alpha_scale = 0.01f, output_scale = 0.04f;
  Arithmetic arithmetic = Arithmetic::kLiteRT;
  int threads = 1;
};

std::string describe(const PreluCase& c) {
  return fmt::format("PRELU {} alpha {}{} {} zp in {} alpha {} out {} scales {} {} {} arith {} threads {}",
                     shape_str(c.input), shape_str(c.alpha), c.alpha_constant ? "" : " (computed)",
                     c.is_signed ? "int8" : "uint8", c.input_zp, c.alpha_zp, c.output_zp, c.input_scale,
                     c.alpha_scale, c.output_scale, quant::arithmetic_name(c.arithmetic), c.threads);
}

// Whether alpha, without its leading ones, is the input shape's tail.
bool prelu_taken(const PreluCase& c) {
  size_t lead = 0;
  while (lead < c.alpha.size() && c.alpha[lead] == 1) ++lead;
  const size_t tail = c.alpha.size() - lead;
  if (!c.alpha_constant || tail > c.input.size()) return false;
  for (size_t d = 0; d < tail; ++d) {
    if (c.alpha[lead + d] != c.input[c.input.size() - tail + d]) return false;
  }
  return true;
}

template <typename T>
void run_prelu(const PreluCase& c, Int8Level level) {
  SCOPED_TRACE(fmt::format("{} at {}", describe(c), int8_level_name(level)));
  std::mt19937 rng(static_cast<uint32_t>(num_elements(c.input) * 31 + num_elements(c.alpha) + c.input_zp));
  OpTester t({kOspreyAvx512});
  t.add_input<T>(c.input, random_q<T>(rng, num_elements(c.input)), false,
                 per_tensor(c.input_scale, c.input_zp));
  t.add_input<T>(c.alpha, random_q<T>(rng, num_elements(c.alpha)), c.alpha_constant,
                 per_tensor(c.alpha_scale, c.alpha_zp));
  t.add_output(dtype_of<T>(), {}, per_tensor(c.output_scale, c.output_zp));
  t.set_op(OpCode::kPrelu);
  t.set_threads({c.threads});
  ArithmeticScope arithmetic_scope(c.arithmetic);
  run_exact_at(t, level, level != Int8Level::kNone && prelu_taken(c));
}

void check(const PreluCase& c) {
  on_every_level(c.is_signed, [&](Int8Level level, auto type) { run_prelu<decltype(type)>(c, level); });
}

// What both_types (int8_binary_case.h) moves into uint8's range.
std::vector<int32_t*> zero_points(PreluCase& c) {
  return {&c.input_zp, &c.alpha_zp, &c.output_zp};
}

constexpr int kChannels[] = {1, 3, 15, 16, 17, 33, 64, 65};

TEST(Int8Avx512Elementwise, PreluChannelsAndAlphaShapes) {
  for (int channels : kChannels) {
    for (int width : {1, 2, 5}) {
      const Shape input{1, 3, width, channels};
      for (const Shape& alpha : {Shape{1, 1, channels}, Shape{channels}, Shape{1}, Shape{3, width, channels},
                                 Shape{1, 1, 1, channels}}) {
        PreluCase c;
        c.input = input;
        c.alpha = alpha;
        for (const PreluCase& f : both_types(c)) check(f);
      }
    }
  }
  // Alphas of over 4096 values (computed, not tabulated), and other ranks.
  for (const Shape& input : {Shape{1, 8, 40, 17}, Shape{1, 5, 63, 16}}) {
    PreluCase c;
    c.input = input;
    c.alpha = {input[1], input[2], input[3]};
    for (const PreluCase& f : both_types(c)) check(f);
  }
  for (const auto& [input, alpha] : {std::pair{Shape{37}, Shape{37}},
                                     {Shape{5, 20}, Shape{20}},
                                     {Shape{2, 4, 19}, Shape{19}},
                                     {Shape{2, 3, 4, 5, 6}, Shape{5, 6}}}) {
    PreluCase c;
    c.input = input;
    c.alpha = alpha;
    for (const PreluCase& f : both_types(c)) check(f);
  }
}

// Zero points at the ends of each type's range, multipliers above and below
// one on either branch (left and right shifts), every arithmetic.
TEST(Int8Avx512Elementwise, PreluZeroPointsScalesArithmetic) {
  const float scale_sets[][3] = {
      {0.05f, 0.01f, 0.04f}, {0.5f, 0.02f, 0.003f}, {0.001f, 0.9f, 0.2f}, {0.02f, 0.004f, 0.02f}};
  int i = 0;
  for (Arithmetic a : kAllArithmetic) {
    for (bool is_signed : {true, false}) {
      const std::vector<int32_t> zps =
          is_signed ? std::vector<int32_t>{-128, 127, 0} : std::vector<int32_t>{0, 255, 128};
      for (int32_t input_zp : zps) {
        for (int32_t output_zp : zps) {
          PreluCase c;
          // Odd cases: an alpha of over 4096 values, which the kernel computes instead of tabulating.
          c.input = i % 2 ? Shape{1, 16, 16, 17 + i % 5} : Shape{1, 2, 3, 16 + i % 5};
          c.alpha = i % 2 ? Shape{16, 16, c.input[3]} : Shape{1, 1, c.input[3]};
          c.is_signed = is_signed;
          c.input_zp = input_zp;
          c.output_zp = output_zp;
          c.alpha_zp = zps[static_cast<size_t>(i % 3)];
          const float* s = scale_sets[i % 4];
          c.input_scale = s[0];
          c.alpha_scale = s[1];
          c.output_scale = s[2];
          c.arithmetic = a;
          check(c);
          ++i;
        }
      }
    }
  }
}

TEST(Int8Avx512Elementwise, PreluTwoThreadsManyTasks) {
  PreluCase c;
  c.input = {1, 40, 41, 24};  // several tasks of the kernel, a period that does not divide them
  c.alpha = {1, 1, 24};
  c.threads = 2;
  for (const PreluCase& f : both_types(c)) check(f);
}

// A computed alpha, or one that repeats along other axes, stays with the reference kernels.
TEST(Int8Avx512Elementwise, PreluNeighboursStayOnTheReference) {
  PreluCase computed;
  computed.alpha_constant = false;
  PreluCase across;
  across.alpha = {1, 5, 1};
  PreluCase middle;
  middle.alpha = {3, 1, 16};
  for (const PreluCase& c : {computed, across, middle}) {
    ASSERT_FALSE(prelu_taken(c)) << describe(c);
    for (const PreluCase& f : both_types(c)) check(f);
  }
  run_prelu<int8_t>(PreluCase{}, Int8Level::kNone);
}

// ---------------------------------------------------------------- tables

struct TableCase {
  OpCode op = OpCode::kHardSwish;
  OpOptions options;
  Shape shape{1, 3, 7, 17};
  DType in_type = DType::kInt8, out_type = DType::kInt8;
  float in_scale = 0.03f, out_scale = 0.02f;
  int32_t in_zp = 5, out_zp = -3;
  bool taken = true;
  int threads = 1;
};

std::string describe(const TableCase& c) {
  return fmt::format("op {} {} {} -> {} scales {} {} zp {} {} threads {}", static_cast<int>(c.op),
                     shape_str(c.shape), dtype_name(c.in_type), dtype_name(c.out_type), c.in_scale,
                     c.out_scale, c.in_zp, c.out_zp, c.threads);
}

template <typename T>
void add_table_input(OpTester& t, const TableCase& c, std::mt19937& rng) {
  // Every byte at least once, then random ones.
  std::vector<T> values(static_cast<size_t>(num_elements(c.shape)));
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = i < 256 ? static_cast<T>(i) : static_cast<T>(rnd(rng, 0, 255));
  t.add_input<T>(c.shape, values, false, per_tensor(c.in_scale, c.in_zp));
}

void run_table(const TableCase& c, Int8Level level) {
  SCOPED_TRACE(fmt::format("{} at {}", describe(c), int8_level_name(level)));
  std::mt19937 rng(static_cast<uint32_t>(num_elements(c.shape) + static_cast<int>(c.op)));
  OpTester t({kOspreyAvx512});
  if (c.in_type == DType::kInt8) {
    add_table_input<int8_t>(t, c, rng);
  } else {
    add_table_input<uint8_t>(t, c, rng);
  }
  t.add_output(c.out_type, {}, per_tensor(c.out_scale, c.out_zp));
  t.set_op(c.op, c.options);
  t.set_threads({c.threads});
  run_exact_at(t, level, level != Int8Level::kNone && c.taken);
}

void check(const TableCase& c) {
  for (Int8Level level : levels()) run_table(c, level);
}

// The case for int8 and for uint8 (zero points moved into its range).
std::vector<TableCase> int8_and_uint8(TableCase c) {
  std::vector<TableCase> all{c};
  c.in_type = c.out_type = DType::kUInt8;
  c.in_zp += 128;
  c.out_zp += 128;
  all.push_back(c);
  return all;
}

// Sizes below, at and above the 64-byte vector, and zero points at the ends.
std::vector<TableCase> sizes_and_zero_points(const TableCase& base) {
  std::vector<TableCase> all;
  for (const Shape& shape : {Shape{1, 1, 1, 1}, Shape{1, 1, 1, 63}, Shape{1, 1, 4, 16}, Shape{1, 1, 5, 13},
                             Shape{1, 4, 4, 17}, Shape{300}}) {
    TableCase c = base;
    c.shape = shape;
    all.push_back(c);
  }
  for (int32_t zp : {-128, 127}) {
    TableCase c = base;
    c.in_zp = zp;
    if (base.op != OpCode::kLogistic && base.op != OpCode::kTanh) c.out_zp = -zp - 1;
    all.push_back(c);
  }
  return all;
}

TEST(Int8Avx512Elementwise, TableOps) {
  std::vector<TableCase> cases;
  TableCase hard_swish;
  cases.push_back(hard_swish);
  TableCase wide_hard_swish = hard_swish;  // output scale above the input's
  wide_hard_swish.in_scale = 0.01f;
  wide_hard_swish.out_scale = 0.5f;
  cases.push_back(wide_hard_swish);
  TableCase logistic;
  logistic.op = OpCode::kLogistic;
  logistic.in_scale = 0.06f;
  logistic.out_scale = 1.0f / 256;
  logistic.out_zp = -128;
  cases.push_back(logistic);
  TableCase tanh = logistic;
  tanh.op = OpCode::kTanh;
  tanh.out_scale = 1.0f / 128;
  tanh.out_zp = 0;
  cases.push_back(tanh);
  for (float alpha : {0.2f, -1.5f, 3.0f}) {
    TableCase leaky;
    leaky.op = OpCode::kLeakyRelu;
    leaky.options = LeakyReluOptions{alpha};
    cases.push_back(leaky);
  }
  for (OpCode op : {OpCode::kRelu, OpCode::kRelu6, OpCode::kReluN1To1}) {
    TableCase relu;  // a rescale: XNNPACK does not take it
    relu.op = op;
    relu.in_scale = 0.05f;
    relu.out_scale = 0.03f;
    cases.push_back(relu);
  }
  for (const TableCase& base : cases) {
    for (const TableCase& c : sizes_and_zero_points(base)) {
      for (TableCase f : int8_and_uint8(c)) {
        // LOGISTIC and TANH have fixed output zero points per type.
        if (f.in_type == DType::kUInt8 && f.op == OpCode::kLogistic) f.out_zp = 0;
        if (f.in_type == DType::kUInt8 && f.op == OpCode::kTanh) f.out_zp = 128;
        check(f);
      }
    }
  }
}

TEST(Int8Avx512Elementwise, TableQuantizeBetweenByteTypes) {
  for (auto [from, to] : {std::pair{DType::kInt8, DType::kUInt8},
                          {DType::kUInt8, DType::kInt8},
                          {DType::kInt8, DType::kInt8},
                          {DType::kUInt8, DType::kUInt8}}) {
    for (float out_scale : {0.03f, 0.011f}) {
      TableCase c;
      c.op = OpCode::kQuantize;
      c.in_type = from;
      c.out_type = to;
      c.in_zp = from == DType::kInt8 ? -128 : 255;
      c.out_zp = to == DType::kInt8 ? 10 : 138;
      c.out_scale = out_scale;
      c.shape = {1, 2, 9, 11};
      check(c);
    }
  }
}

TEST(Int8Avx512Elementwise, TableTwoThreadsManyTasks) {
  TableCase c;
  c.shape = {1, 40, 41, 24};
  c.threads = 2;
  for (const TableCase& f : int8_and_uint8(c)) check(f);
}

// A RELU that only clamps is XNNPACK's; float LOGISTIC and a refused
// HARD_SWISH (input scale 128 times the output's) stay with the reference
// kernels.
TEST(Int8Avx512Elementwise, TableNeighboursStayOnTheReference) {
  TableCase clamp;
  clamp.op = OpCode::kRelu6;
  clamp.out_scale = clamp.in_scale;
  clamp.out_zp = clamp.in_zp;
  clamp.taken = false;
  for (const TableCase& f : int8_and_uint8(clamp)) check(f);
  run_table(TableCase{}, Int8Level::kNone);
}

}  // namespace
}  // namespace osprey
