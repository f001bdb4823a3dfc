// pthreadpool's C interface (pthreadpool.h), implemented on osprey's pool
// (thread_pool.h). The executable's definitions take precedence over
// libpthreadpool's for every library it loads, so XNNPACK's operators run on
// this pool as well. Every function of the header is here, so no call can
// reach libpthreadpool with a pool it did not make.
//
// Each call is a grid of up to six dimensions, the last one or two cut into
// tiles; its items are the grid's tiles in row-major order, as pthreadpool
// numbers them.
#include <pthreadpool.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <new>

#include "backends/thread_pool.h"

struct pthreadpool {
  explicit pthreadpool(int threads, bool adaptive) : pool(threads, adaptive) {}
  osprey::ThreadPool pool;
};

namespace {

template <size_t N>
struct Job {
  void (*task)();  // the caller's task, cast back by `Call`
  void* context;
  uint32_t uarch;
  std::array<size_t, N> range, tile, tiles;

  struct Tile {
    std::array<size_t, N> start, size;
  };
  // The tile after `t` in row-major order.
  void next(Tile& t) const {
    for (size_t d = N; d-- > 0;) {
      t.start[d] += tile[d];
      if (t.start[d] < range[d]) {
        t.size[d] = std::min(tile[d], range[d] - t.start[d]);
        return;
      }
      t.start[d] = 0;
      t.size[d] = std::min(tile[d], range[d]);
    }
  }
  Tile at(size_t index) const {
    Tile t;
    for (size_t d = N; d-- > 0;) {
      t.start[d] = index % tiles[d] * tile[d];
      t.size[d] = std::min(tile[d], range[d] - t.start[d]);
      index /= tiles[d];
    }
    return t;
  }
};

// Runs `Call{}(job, tile)` for every tile of the grid `range` cut by `tile`.
template <size_t N, class Call, class Task>
void run_grid(pthreadpool_t pool, Task task, void* context, std::array<size_t, N> range,
              std::array<size_t, N> tile, uint32_t flags, uint32_t uarch = 0) {
  Job<N> job{reinterpret_cast<void (*)()>(task), context, uarch, range, tile, {}};
  size_t count = 1;
  for (size_t d = 0; d < N; ++d) {
    job.tile[d] = std::max<size_t>(tile[d], 1);
    job.tiles[d] = (range[d] + job.tile[d] - 1) / job.tile[d];
    count *= job.tiles[d];
  }
  if (count == 0) return;
  const auto items = [](const void* p, size_t begin, size_t end) {
    const auto& j = *static_cast<const Job<N>*>(p);
    typename Job<N>::Tile t = j.at(begin);
    for (size_t i = begin; i < end; ++i, j.next(t)) Call{}(j, t);
  };
  const bool denormals = (flags & PTHREADPOOL_FLAG_DISABLE_DENORMALS) != 0;
  if (pool) {
    pool->pool.run(count, items, &job, denormals, (flags & PTHREADPOOL_FLAG_YIELD_WORKERS) != 0,
                   osprey::ThreadPool::site_of(reinterpret_cast<uintptr_t>(job.task), context, count));
  } else {
    osprey::ThreadPool::run_on_caller(count, items, &job, denormals);
  }
}

template <class Task>
Task task_of(void (*task)()) {
  return reinterpret_cast<Task>(task);
}

}  // namespace

extern "C" {

pthreadpool_t pthreadpool_create(size_t threads_count) {
  try {
    // pthreadpool's interface has no way to say why it failed: a count above
    // osprey's limit gets the limit.
    const int n = osprey::resolve_threads(
        static_cast<int>(std::min<size_t>(threads_count, static_cast<size_t>(osprey::kMaxThreads))));
    return new pthreadpool(n, threads_count == 0);
  } catch (...) {
    return nullptr;
  }
}

size_t pthreadpool_get_threads_count(pthreadpool_t pool) {
  return pool ? static_cast<size_t>(pool->pool.active_threads()) : 1;
}

void pthreadpool_destroy(pthreadpool_t pool) {
  delete pool;
}

void pthreadpool_parallelize_1d(pthreadpool_t pool, pthreadpool_task_1d_t task, void* context, size_t range,
                                uint32_t flags) {
  struct Call {
    void operator()(const Job<1>& j, const Job<1>::Tile& t) const {
      task_of<pthreadpool_task_1d_t>(j.task)(j.context, t.start[0]);
    }
  };
  run_grid<1, Call>(pool, task, context, {range}, {1}, flags);
}

void pthreadpool_parallelize_1d_with_uarch(pthreadpool_t pool, pthreadpool_task_1d_with_id_t task,
                                           void* context, uint32_t default_uarch_index,
                                           uint32_t max_uarch_index, size_t range, uint32_t flags) {
  struct Call {
    void operator()(const Job<1>& j, const Job<1>::Tile& t) const {
      task_of<pthreadpool_task_1d_with_id_t>(j.task)(j.context, j.uarch, t.start[0]);
    }
  };
  run_grid<1, Call>(pool, task, context, {range}, {1}, flags, default_uarch_index);
}

void pthreadpool_parallelize_1d_tile_1d(pthreadpool_t pool, pthreadpool_task_1d_tile_1d_t task, void* context,
                                        size_t range, size_t tile, uint32_t flags) {
  struct Call {
    void operator()(const Job<1>& j, const Job<1>::Tile& t) const {
      task_of<pthreadpool_task_1d_tile_1d_t>(j.task)(j.context, t.start[0], t.size[0]);
    }
  };
  run_grid<1, Call>(pool, task, context, {range}, {tile}, flags);
}

void pthreadpool_parallelize_2d(pthreadpool_t pool, pthreadpool_task_2d_t task, void* context, size_t range_i,
                                size_t range_j, uint32_t flags) {
  struct Call {
    void operator()(const Job<2>& j, const Job<2>::Tile& t) const {
      task_of<pthreadpool_task_2d_t>(j.task)(j.context, t.start[0], t.start[1]);
    }
  };
  run_grid<2, Call>(pool, task, context, {range_i, range_j}, {1, 1}, flags);
}

void pthreadpool_parallelize_2d_tile_1d(pthreadpool_t pool, pthreadpool_task_2d_tile_1d_t task, void* context,
                                        size_t range_i, size_t range_j, size_t tile_j, uint32_t flags) {
  struct Call {
    void operator()(const Job<2>& j, const Job<2>::Tile& t) const {
      task_of<pthreadpool_task_2d_tile_1d_t>(j.task)(j.context, t.start[0], t.start[1], t.size[1]);
    }
  };
  run_grid<2, Call>(pool, task, context, {range_i, range_j}, {1, tile_j}, flags);
}

void pthreadpool_parallelize_2d_tile_2d(pthreadpool_t pool, pthreadpool_task_2d_tile_2d_t task, void* context,
                                        size_t range_i, size_t range_j, size_t tile_i, size_t tile_j,
                                        uint32_t flags) {
  struct Call {
    void operator()(const Job<2>& j, const Job<2>::Tile& t) const {
      task_of<pthreadpool_task_2d_tile_2d_t>(j.task)(j.context, t.start[0], t.start[1], t.size[0], t.size[1]);
    }
  };
  run_grid<2, Call>(pool, task, context, {range_i, range_j}, {tile_i, tile_j}, flags);
}

void pthreadpool_parallelize_2d_tile_2d_with_uarch(pthreadpool_t pool,
                                                   pthreadpool_task_2d_tile_2d_with_id_t task, void* context,
                                                   uint32_t default_uarch_index, uint32_t max_uarch_index,
                                                   size_t range_i, size_t range_j, size_t tile_i,
                                                   size_t tile_j, uint32_t flags) {
  struct Call {
    void operator()(const Job<2>& j, const Job<2>::Tile& t) const {
      task_of<pthreadpool_task_2d_tile_2d_with_id_t>(j.task)(j.context, j.uarch, t.start[0], t.start[1],
                                                             t.size[0], t.size[1]);
    }
  };
  run_grid<2, Call>(pool, task, context, {range_i, range_j}, {tile_i, tile_j}, flags, default_uarch_index);
}

void pthreadpool_parallelize_3d(pthreadpool_t pool, pthreadpool_task_3d_t task, void* context, size_t range_i,
                                size_t range_j, size_t range_k, uint32_t flags) {
  struct Call {
    void operator()(const Job<3>& j, const Job<3>::Tile& t) const {
      task_of<pthreadpool_task_3d_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2]);
    }
  };
  run_grid<3, Call>(pool, task, context, {range_i, range_j, range_k}, {1, 1, 1}, flags);
}

void pthreadpool_parallelize_3d_tile_1d(pthreadpool_t pool, pthreadpool_task_3d_tile_1d_t task, void* context,
                                        size_t range_i, size_t range_j, size_t range_k, size_t tile_k,
                                        uint32_t flags) {
  struct Call {
    void operator()(const Job<3>& j, const Job<3>::Tile& t) const {
      task_of<pthreadpool_task_3d_tile_1d_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2],
                                                     t.size[2]);
    }
  };
  run_grid<3, Call>(pool, task, context, {range_i, range_j, range_k}, {1, 1, tile_k}, flags);
}

void pthreadpool_parallelize_3d_tile_2d(pthreadpool_t pool, pthreadpool_task_3d_tile_2d_t task, void* context,
                                        size_t range_i, size_t range_j, size_t range_k, size_t tile_j,
                                        size_t tile_k, uint32_t flags) {
  struct Call {
    void operator()(const Job<3>& j, const Job<3>::Tile& t) const {
      task_of<pthreadpool_task_3d_tile_2d_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2], t.size[1],
                                                     t.size[2]);
    }
  };
  run_grid<3, Call>(pool, task, context, {range_i, range_j, range_k}, {1, tile_j, tile_k}, flags);
}

void pthreadpool_parallelize_3d_tile_2d_with_uarch(pthreadpool_t pool,
                                                   pthreadpool_task_3d_tile_2d_with_id_t task, void* context,
                                                   uint32_t default_uarch_index, uint32_t max_uarch_index,
                                                   size_t range_i, size_t range_j, size_t range_k,
                                                   size_t tile_j, size_t tile_k, uint32_t flags) {
  struct Call {
    void operator()(const Job<3>& j, const Job<3>::Tile& t) const {
      task_of<pthreadpool_task_3d_tile_2d_with_id_t>(j.task)(j.context, j.uarch, t.start[0], t.start[1],
                                                             t.start[2], t.size[1], t.size[2]);
    }
  };
  run_grid<3, Call>(pool, task, context, {range_i, range_j, range_k}, {1, tile_j, tile_k}, flags,
                    default_uarch_index);
}

void pthreadpool_parallelize_4d(pthreadpool_t pool, pthreadpool_task_4d_t task, void* context, size_t range_i,
                                size_t range_j, size_t range_k, size_t range_l, uint32_t flags) {
  struct Call {
    void operator()(const Job<4>& j, const Job<4>::Tile& t) const {
      task_of<pthreadpool_task_4d_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2], t.start[3]);
    }
  };
  run_grid<4, Call>(pool, task, context, {range_i, range_j, range_k, range_l}, {1, 1, 1, 1}, flags);
}

void pthreadpool_parallelize_4d_tile_1d(pthreadpool_t pool, pthreadpool_task_4d_tile_1d_t task, void* context,
                                        size_t range_i, size_t range_j, size_t range_k, size_t range_l,
                                        size_t tile_l, uint32_t flags) {
  struct Call {
    void operator()(const Job<4>& j, const Job<4>::Tile& t) const {
      task_of<pthreadpool_task_4d_tile_1d_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2],
                                                     t.start[3], t.size[3]);
    }
  };
  run_grid<4, Call>(pool, task, context, {range_i, range_j, range_k, range_l}, {1, 1, 1, tile_l}, flags);
}

void pthreadpool_parallelize_4d_tile_2d(pthreadpool_t pool, pthreadpool_task_4d_tile_2d_t task, void* context,
                                        size_t range_i, size_t range_j, size_t range_k, size_t range_l,
                                        size_t tile_k, size_t tile_l, uint32_t flags) {
  struct Call {
    void operator()(const Job<4>& j, const Job<4>::Tile& t) const {
      task_of<pthreadpool_task_4d_tile_2d_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2],
                                                     t.start[3], t.size[2], t.size[3]);
    }
  };
  run_grid<4, Call>(pool, task, context, {range_i, range_j, range_k, range_l}, {1, 1, tile_k, tile_l}, flags);
}

void pthreadpool_parallelize_4d_tile_2d_with_uarch(pthreadpool_t pool,
                                                   pthreadpool_task_4d_tile_2d_with_id_t task, void* context,
                                                   uint32_t default_uarch_index, uint32_t max_uarch_index,
                                                   size_t range_i, size_t range_j, size_t range_k,
                                                   size_t range_l, size_t tile_k, size_t tile_l,
                                                   uint32_t flags) {
  struct Call {
    void operator()(const Job<4>& j, const Job<4>::Tile& t) const {
      task_of<pthreadpool_task_4d_tile_2d_with_id_t>(j.task)(j.context, j.uarch, t.start[0], t.start[1],
                                                             t.start[2], t.start[3], t.size[2], t.size[3]);
    }
  };
  run_grid<4, Call>(pool, task, context, {range_i, range_j, range_k, range_l}, {1, 1, tile_k, tile_l}, flags,
                    default_uarch_index);
}

void pthreadpool_parallelize_5d(pthreadpool_t pool, pthreadpool_task_5d_t task, void* context, size_t range_i,
                                size_t range_j, size_t range_k, size_t range_l, size_t range_m,
                                uint32_t flags) {
  struct Call {
    void operator()(const Job<5>& j, const Job<5>::Tile& t) const {
      task_of<pthreadpool_task_5d_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2], t.start[3],
                                             t.start[4]);
    }
  };
  run_grid<5, Call>(pool, task, context, {range_i, range_j, range_k, range_l, range_m}, {1, 1, 1, 1, 1},
                    flags);
}

void pthreadpool_parallelize_5d_tile_1d(pthreadpool_t pool, pthreadpool_task_5d_tile_1d_t task, void* context,
                                        size_t range_i, size_t range_j, size_t range_k, size_t range_l,
                                        size_t range_m, size_t tile_m, uint32_t flags) {
  struct Call {
    void operator()(const Job<5>& j, const Job<5>::Tile& t) const {
      task_of<pthreadpool_task_5d_tile_1d_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2],
                                                     t.start[3], t.start[4], t.size[4]);
    }
  };
  run_grid<5, Call>(pool, task, context, {range_i, range_j, range_k, range_l, range_m}, {1, 1, 1, 1, tile_m},
                    flags);
}

void pthreadpool_parallelize_5d_tile_2d(pthreadpool_t pool, pthreadpool_task_5d_tile_2d_t task, void* context,
                                        size_t range_i, size_t range_j, size_t range_k, size_t range_l,
                                        size_t range_m, size_t tile_l, size_t tile_m, uint32_t flags) {
  struct Call {
    void operator()(const Job<5>& j, const Job<5>::Tile& t) const {
      task_of<pthreadpool_task_5d_tile_2d_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2],
                                                     t.start[3], t.start[4], t.size[3], t.size[4]);
    }
  };
  run_grid<5, Call>(pool, task, context, {range_i, range_j, range_k, range_l, range_m},
                    {1, 1, 1, tile_l, tile_m}, flags);
}

void pthreadpool_parallelize_6d(pthreadpool_t pool, pthreadpool_task_6d_t task, void* context, size_t range_i,
                                size_t range_j, size_t range_k, size_t range_l, size_t range_m,
                                size_t range_n, uint32_t flags) {
  struct Call {
    void operator()(const Job<6>& j, const Job<6>::Tile& t) const {
      task_of<pthreadpool_task_6d_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2], t.start[3],
                                             t.start[4], t.start[5]);
    }
  };
  run_grid<6, Call>(pool, task, context, {range_i, range_j, range_k, range_l, range_m, range_n},
                    {1, 1, 1, 1, 1, 1}, flags);
}

void pthreadpool_parallelize_6d_tile_1d(pthreadpool_t pool, pthreadpool_task_6d_tile_1d_t task, void* context,
                                        size_t range_i, size_t range_j, size_t range_k, size_t range_l,
                                        size_t range_m, size_t range_n, size_t tile_n, uint32_t flags) {
  struct Call {
    void operator()(const Job<6>& j, const Job<6>::Tile& t) const {
      task_of<pthreadpool_task_6d_tile_1d_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2],
                                                     t.start[3], t.start[4], t.start[5], t.size[5]);
    }
  };
  run_grid<6, Call>(pool, task, context, {range_i, range_j, range_k, range_l, range_m, range_n},
                    {1, 1, 1, 1, 1, tile_n}, flags);
}

void pthreadpool_parallelize_6d_tile_2d(pthreadpool_t pool, pthreadpool_task_6d_tile_2d_t task, void* context,
                                        size_t range_i, size_t range_j, size_t range_k, size_t range_l,
                                        size_t range_m, size_t range_n, size_t tile_m, size_t tile_n,
                                        uint32_t flags) {
  struct Call {
    void operator()(const Job<6>& j, const Job<6>::Tile& t) const {
      task_of<pthreadpool_task_6d_tile_2d_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2],
                                                     t.start[3], t.start[4], t.start[5], t.size[4],
                                                     t.size[5]);
    }
  };
  run_grid<6, Call>(pool, task, context, {range_i, range_j, range_k, range_l, range_m, range_n},
                    {1, 1, 1, 1, tile_m, tile_n}, flags);
}

// The deprecated interface, kept so that nothing resolves to libpthreadpool.
void pthreadpool_compute_1d(pthreadpool_t pool, pthreadpool_function_1d_t function, void* argument,
                            size_t range) {
  pthreadpool_parallelize_1d(pool, function, argument, range, 0);
}

void pthreadpool_compute_1d_tiled(pthreadpool_t pool, pthreadpool_function_1d_tiled_t function,
                                  void* argument, size_t range, size_t tile) {
  pthreadpool_parallelize_1d_tile_1d(pool, function, argument, range, tile, 0);
}

void pthreadpool_compute_2d(pthreadpool_t pool, pthreadpool_function_2d_t function, void* argument,
                            size_t range_i, size_t range_j) {
  pthreadpool_parallelize_2d(pool, function, argument, range_i, range_j, 0);
}

void pthreadpool_compute_2d_tiled(pthreadpool_t pool, pthreadpool_function_2d_tiled_t function,
                                  void* argument, size_t range_i, size_t range_j, size_t tile_i,
                                  size_t tile_j) {
  pthreadpool_parallelize_2d_tile_2d(pool, function, argument, range_i, range_j, tile_i, tile_j, 0);
}

void pthreadpool_compute_3d_tiled(pthreadpool_t pool, pthreadpool_function_3d_tiled_t function,
                                  void* argument, size_t range_i, size_t range_j, size_t range_k,
                                  size_t tile_i, size_t tile_j, size_t tile_k) {
  struct Call {
    void operator()(const Job<3>& j, const Job<3>::Tile& t) const {
      task_of<pthreadpool_function_3d_tiled_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2],
                                                       t.size[0], t.size[1], t.size[2]);
    }
  };
  run_grid<3, Call>(pool, function, argument, {range_i, range_j, range_k}, {tile_i, tile_j, tile_k}, 0);
}

void pthreadpool_compute_4d_tiled(pthreadpool_t pool, pthreadpool_function_4d_tiled_t function,
                                  void* argument, size_t range_i, size_t range_j, size_t range_k,
                                  size_t range_l, size_t tile_i, size_t tile_j, size_t tile_k,
                                  size_t tile_l) {
  struct Call {
    void operator()(const Job<4>& j, const Job<4>::Tile& t) const {
      task_of<pthreadpool_function_4d_tiled_t>(j.task)(j.context, t.start[0], t.start[1], t.start[2],
                                                       t.start[3], t.size[0], t.size[1], t.size[2],
                                                       t.size[3]);
    }
  };
  run_grid<4, Call>(pool, function, argument, {range_i, range_j, range_k, range_l},
                    {tile_i, tile_j, tile_k, tile_l}, 0);
}

}  // extern "C"
