#include "backends/avx512/add.h"

#include "backends/avx512/intrinsics.h"

#include <pthreadpool.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace osprey {

namespace {

// Floats a task adds: 16 KiB of output, small enough that two threads split
// even small tensors, large enough that a task's call costs nothing.
constexpr size_t kChunk = 4096;

struct Task {
  const float* a;
  const float* b;
  float* out;
  size_t count;
  float min, max;
  bool clamp;
};

#define OSPREY_AVX512_TARGET "avx512f"
#include "backends/avx512/avx512_target_begin.h"

void add_chunk(void* context, size_t chunk) {
  const Task& t = *static_cast<const Task*>(context);
  const size_t begin = chunk * kChunk, end = std::min(t.count, begin + kChunk);
  const __m512 lo = _mm512_set1_ps(t.min), hi = _mm512_set1_ps(t.max);
  for (size_t i = begin; i < end; i += 16) {
    const __mmask16 lanes = end - i >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (end - i)) - 1);
    __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, t.a + i), _mm512_maskz_loadu_ps(lanes, t.b + i));
    // As XNNPACK clamps: max with the lower bound first, then min with the upper.
    if (t.clamp) v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    _mm512_mask_storeu_ps(t.out + i, lanes, v);
  }
}

#include "backends/avx512/avx512_target_end.h"

class AddKernel final : public Kernel {
 public:
  AddKernel(float min, float max, std::shared_ptr<pthreadpool> pool)
      : min_(min), max_(max), pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(ctx.num_inputs() == 2 && ctx.num_outputs() == 1, "ADD takes two inputs and one output");
    OSPREY_CHECK(ctx.input(0).shape == ctx.output(0).shape && ctx.input(1).shape == ctx.output(0).shape,
                 "ADD shapes {} + {} -> {} differ", shape_str(ctx.input(0).shape),
                 shape_str(ctx.input(1).shape), shape_str(ctx.output(0).shape));
  }

  void eval(KernelContext& ctx) override {
    const Task task{ctx.input(0).data_as<float>(),
                    ctx.input(1).data_as<float>(),
                    ctx.output(0).data_as<float>(),
                    static_cast<size_t>(ctx.output(0).num_elements()),
                    min_,
                    max_,
                    std::isfinite(min_) || std::isfinite(max_)};
    pthreadpool_parallelize_1d(pool_.get(), add_chunk, const_cast<Task*>(&task),
                               (task.count + kChunk - 1) / kChunk, 0);
  }

 private:
  float min_, max_;
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
