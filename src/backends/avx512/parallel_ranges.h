// Splitting a flat loop into tasks over osprey's thread pool: the shape of
// osprey-avx512's element-wise kernels, whose elements map independently.
#pragma once

#include <pthreadpool.h>

#include <algorithm>
#include <cstdint>

#include "core/split.h"

namespace osprey {

// Runs f(first, last) over the `n` elements of a tensor of `rows` rows (0:
// split by elements) on `pool`, in tasks of at most `per_task` elements.
// Thread t's tasks cover the elements of its share of the rows
// (core/split.h), where the memory planner expects it to write.
template <typename F>
void parallel_ranges(pthreadpool* pool, int64_t n, size_t rows, int64_t per_task, const F& f) {
  if (n <= 0) return;
  const int threads = static_cast<int>(pthreadpool_get_threads_count(pool));
  const size_t units = rows > 0 && static_cast<size_t>(n) % rows == 0 ? rows : static_cast<size_t>(n);
  const int64_t unit = n / static_cast<int64_t>(units);
  const auto longest = static_cast<int64_t>(largest_share(units, threads)) * unit;
  const int64_t tasks_per_share = (longest + per_task - 1) / per_task;
  struct Context {
    const F* f;
    int threads;
    size_t units;
    int64_t unit, tasks_per_share;
  } context{&f, threads, units, unit, tasks_per_share};
  pthreadpool_parallelize_1d(
      pool,
      [](void* c, size_t task) {
        const Context& ctx = *static_cast<const Context*>(c);
        const int t = static_cast<int>(task / static_cast<size_t>(ctx.tasks_per_share));
        const auto begin = static_cast<int64_t>(share_begin(ctx.units, ctx.threads, t)) * ctx.unit;
        const auto end = static_cast<int64_t>(share_begin(ctx.units, ctx.threads, t + 1)) * ctx.unit;
        // The share's tasks split it evenly; a short share's last ones are empty.
        const int64_t step = (end - begin + ctx.tasks_per_share - 1) / ctx.tasks_per_share;
        const int64_t first =
            begin + static_cast<int64_t>(task % static_cast<size_t>(ctx.tasks_per_share)) * step;
        if (first < end) (*ctx.f)(first, std::min(end, first + step));
      },
      &context, static_cast<size_t>(threads) * static_cast<size_t>(tasks_per_share), 0);
}

}  // namespace osprey
