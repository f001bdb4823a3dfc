// What the sweeps of osprey's int8 AVX-512 binary kernels (ADD, MUL) share:
// a case of two run-time operands with per-tensor parameters, its int8 and
// uint8 forms, and running it at one CPU level against the reference.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "backends/avx512/int8_cpu.h"
#include "kernels/int8_avx512_levels.h"
#include "kernels/op_tester.h"
#include "kernels/quant_kernel_helpers.h"

namespace osprey {

struct BinaryCase {
  OpCode code = OpCode::kAdd;
  Shape a{1, 6, 7, 16};
  Shape b{1, 6, 7, 16};
  Activation activation = Activation::kNone;
  bool is_signed = true;
  int32_t a_zp = 3, b_zp = -20, out_zp = -5;
  float a_scale = 0.05f, b_scale = 0.03f, out_scale = 0.06f;
  quant_test::Arithmetic arithmetic = quant_test::Arithmetic::kLiteRT;
  int threads = 1;
};

inline std::vector<int32_t*> zero_points(BinaryCase& c) {
  return {&c.a_zp, &c.b_zp, &c.out_zp};
}

// The case as int8, then as uint8 with its zero points moved up by 128.
template <typename Case>
std::vector<Case> both_types(Case c) {
  std::vector<Case> all{c};
  c.is_signed = false;
  for (int32_t* zp : zero_points(c)) *zp += 128;
  all.push_back(c);
  return all;
}

inline std::string describe(const BinaryCase& c) {
  const bool add = c.code == OpCode::kAdd;
  return fmt::format("{} {} {} {} act {} {} zp {} {} {} scales {} {} {} arith {} threads {}",
                     add ? "ADD" : "MUL", shape_str(c.a), add ? "+" : "x", shape_str(c.b),
                     static_cast<int>(c.activation), c.is_signed ? "int8" : "uint8", c.a_zp, c.b_zp, c.out_zp,
                     c.a_scale, c.b_scale, c.out_scale, quant::arithmetic_name(c.arithmetic), c.threads);
}

// Runs `c` at `level` with random operands: bit-exact to the reference, and
// osprey-avx512 claims it exactly when `claim`.
template <typename T>
void run_binary(const BinaryCase& c, Int8Level level, bool claim) {
  using namespace quant_test;
  SCOPED_TRACE(fmt::format("{} at {}", describe(c), int8_level_name(level)));
  std::mt19937 rng(static_cast<uint32_t>(num_elements(c.a) * 31 + num_elements(c.b) + c.a_zp));
  testing::OpTester t({testing::kOspreyAvx512});
  t.add_input<T>(c.a, random_q<T>(rng, num_elements(c.a)), false, per_tensor(c.a_scale, c.a_zp));
  t.add_input<T>(c.b, random_q<T>(rng, num_elements(c.b)), false, per_tensor(c.b_scale, c.b_zp));
  t.add_output(dtype_of<T>(), {}, per_tensor(c.out_scale, c.out_zp));
  ElementwiseOptions o;
  o.activation = c.activation;
  t.set_op(c.code, o);
  t.set_threads({c.threads});
  ArithmeticScope arithmetic_scope(c.arithmetic);
  run_exact_at(t, level, claim);
}

// Runs `c` on every level, as int8 or uint8: claimed(level) says whether the
// kernel must take it there.
template <typename Claimed>
void check_binary(const BinaryCase& c, const Claimed& claimed) {
  on_every_level(c.is_signed,
                 [&](Int8Level level, auto type) { run_binary<decltype(type)>(c, level, claimed(level)); });
}

}  // namespace osprey
