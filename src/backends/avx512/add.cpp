#include "backends/avx512/add.h"

#include "backends/avx512/intrinsics.h"
#include "backends/avx512/parallel_ranges.h"

#include <cmath>

#include "core/error.h"

namespace osprey {

namespace {

// Floats a task adds: 16 KiB of output, small enough that two threads split
// even small tensors, large enough that a task's call costs nothing.
constexpr int64_t kFloatsPerTask = 4096;

struct Clamp {
  float min, max;
  bool on;  // either bound finite
};

#define OSPREY_AVX512_TARGET "avx512f"
#include "backends/avx512/avx512_target_begin.h"

void add_range(const Clamp& c, const float* a, const float* b, float* out, int64_t first, int64_t last) {
  const __m512 lo = _mm512_set1_ps(c.min), hi = _mm512_set1_ps(c.max);
  for (int64_t i = first; i < last; i += 16) {
    const __mmask16 lanes =
        last - i >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (last - i)) - 1);
    __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, a + i), _mm512_maskz_loadu_ps(lanes, b + i));
    // As XNNPACK clamps: max with the lower bound first, then min with the upper.
    if (c.on) v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    _mm512_mask_storeu_ps(out + i, lanes, v);
  }
}

#include "backends/avx512/avx512_target_end.h"

class AddKernel final : public Kernel {
 public:
  AddKernel(float min, float max, std::shared_ptr<pthreadpool> pool)
      : clamp_{min, max, std::isfinite(min) || std::isfinite(max)}, pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(ctx.num_inputs() == 2 && ctx.num_outputs() == 1, "ADD takes two inputs and one output");
    OSPREY_CHECK(ctx.input(0).shape == ctx.output(0).shape && ctx.input(1).shape == ctx.output(0).shape,
                 "ADD shapes {} + {} -> {} differ", shape_str(ctx.input(0).shape),
                 shape_str(ctx.input(1).shape), shape_str(ctx.output(0).shape));
  }

  void eval(KernelContext& ctx) override {
    const float* a = ctx.input(0).data_as<float>();
    const float* b = ctx.input(1).data_as<float>();
    float* out = ctx.output(0).data_as<float>();
    parallel_ranges(pool_.get(), ctx.output(0).num_elements(), split_rows(ctx.output(0).shape),
                    kFloatsPerTask,
                    [&](int64_t first, int64_t last) { add_range(clamp_, a, b, out, first, last); });
  }

 private:
  Clamp clamp_;
  std::shared_ptr<pthreadpool> pool_;
};

}  // namespace

bool add_supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

std::unique_ptr<Kernel> make_add(float min, float max, std::shared_ptr<pthreadpool> pool) {
  OSPREY_CHECK(add_supported(), "the ADD kernel needs AVX-512");
  return std::make_unique<AddKernel>(min, max, std::move(pool));
}

}  // namespace osprey
