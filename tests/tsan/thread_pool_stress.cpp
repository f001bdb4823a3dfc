// The thread pool under ThreadSanitizer (its own files only, built apart with
// -fsanitize=thread): operations of changing sizes on more threads than
// cores, so workers are often descheduled and late. Every item writes plain
// memory the caller then reads: a worker running an item of an operation
// other than the one it joined is a data race TSan reports, and a wrong or
// missing value is counted here. Exit 0 when every operation ran each of its
// items once.
#include <pthreadpool.h>

#include <cstdio>
#include <vector>

#include "backends/thread_pool.h"

namespace {

struct Job {
  std::vector<int> out = std::vector<int>(400);
  int op = 0;
  static void items(const void* p, size_t begin, size_t end) {
    auto* j = static_cast<Job*>(const_cast<void*>(p));
    for (size_t i = begin; i < end; ++i) j->out[i] += j->op;
  }
};

// Runs `ops` operations through `run(count, job)`; returns the wrong items.
template <typename Run>
long stress(int ops, Run run) {
  Job job;
  long wrong = 0;
  for (int op = 1; op <= ops; ++op) {
    const size_t count = 2 + static_cast<size_t>(op % 5) * 70;  // grows, then drops
    job.op = op;
    run(count, job);
    for (size_t i = 0; i < job.out.size(); ++i) {
      wrong += job.out[i] != (i < count ? op : 0);
      job.out[i] = 0;
    }
  }
  return wrong;
}

}  // namespace

int main() {
  long wrong = 0;
  for (bool adaptive : {false, true}) {
    osprey::ThreadPool pool(4, adaptive, /*watch_load=*/false);
    wrong += stress(20000, [&](size_t count, Job& job) {
      pool.run(count, Job::items, &job, job.op % 3 == 0, job.op % 7 == 0);
    });
  }
  // Through pthreadpool's interface, as XNNPACK calls it.
  pthreadpool_t pool = pthreadpool_create(4);
  wrong += stress(20000, [&](size_t count, Job& job) {
    pthreadpool_parallelize_1d(
        pool, [](void* p, size_t i) { Job::items(p, i, i + 1); }, &job, count, 0);
  });
  pthreadpool_destroy(pool);
  std::printf("thread pool stress: %ld wrong items\n", wrong);
  return wrong == 0 ? 0 : 1;
}
