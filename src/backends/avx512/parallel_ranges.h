// Splitting a flat loop into tasks over osprey's thread pool: the shape of
// osprey-avx512's element-wise kernels, whose elements map independently.
#pragma once

#include <pthreadpool.h>

#include <algorithm>
#include <cstdint>

namespace osprey {

// Runs f(first, last) over [0, n) in tasks of `per_task` elements on `pool`.
template <typename F>
void parallel_ranges(pthreadpool* pool, int64_t n, int64_t per_task, const F& f) {
  struct Context {
    const F* f;
    int64_t n, per_task;
  } context{&f, n, per_task};
  const size_t tasks = static_cast<size_t>((n + per_task - 1) / per_task);
  pthreadpool_parallelize_1d(
      pool,
      [](void* c, size_t task) {
        const Context& ctx = *static_cast<const Context*>(c);
        const int64_t first = static_cast<int64_t>(task) * ctx.per_task;
        (*ctx.f)(first, std::min(ctx.n, first + ctx.per_task));
      },
      &context, tasks, 0);
}

}  // namespace osprey
