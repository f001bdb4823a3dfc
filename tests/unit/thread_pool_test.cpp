// osprey's thread pool and its pthreadpool interface: every item of every
// grid shape runs exactly once with the right tile, on pools of 1-4 threads
// and on none; denormals are flushed only when asked; XNNPACK's calls reach
// this pool; a pool whose workers are stalled falls back to the caller; an
// operation (or a model) that runs faster on the caller alone learns to (in
// the inferences counted as learning, no more), and
// a model faster split keeps splitting through a slow spell while it learns,
// or splits again after its probes once a longer spell has passed;
// a default pool stops splitting while another task wants the cores.
#include <gtest/gtest.h>
#include <immintrin.h>
#include <pthreadpool.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "backends/thread_pool.h"
#include "core/error.h"

namespace osprey {
namespace {

struct Grid {
  size_t range[6];
  std::vector<std::atomic<int>> hits;
  explicit Grid(std::initializer_list<size_t> r) : range{1, 1, 1, 1, 1, 1}, hits(product(r)) {
    size_t d = 0;
    for (size_t v : r) range[d++] = v;
  }
  static size_t product(std::initializer_list<size_t> r) {
    size_t n = 1;
    for (size_t v : r) n *= v;
    return n;
  }
  // Marks [start, start + size) of the last dimensions given as one box.
  void mark(std::initializer_list<size_t> start, std::initializer_list<size_t> size) {
    size_t s[6] = {0, 0, 0, 0, 0, 0}, n[6] = {1, 1, 1, 1, 1, 1};
    size_t d = 0;
    for (size_t v : start) s[d++] = v;
    d = 0;
    for (size_t v : size) n[d++] = v;
    for (size_t i = s[0]; i < s[0] + n[0]; ++i)
      for (size_t j = s[1]; j < s[1] + n[1]; ++j)
        for (size_t k = s[2]; k < s[2] + n[2]; ++k)
          for (size_t l = s[3]; l < s[3] + n[3]; ++l)
            for (size_t m = s[4]; m < s[4] + n[4]; ++m)
              for (size_t o = s[5]; o < s[5] + n[5]; ++o) {
                const size_t at =
                    ((((i * range[1] + j) * range[2] + k) * range[3] + l) * range[4] + m) * range[5] + o;
                if (at < hits.size()) hits[at]++;
              }
  }
  bool each_once() const {
    for (const auto& h : hits)
      if (h.load() != 1) return false;
    return true;
  }
};

class PoolTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (GetParam() > 0) {
      pool_ = pthreadpool_create(static_cast<size_t>(GetParam()));
      ASSERT_NE(pool_, nullptr);
    }
  }
  void TearDown() override { pthreadpool_destroy(pool_); }
  pthreadpool_t pool_ = nullptr;  // null: run on the caller
};

TEST_P(PoolTest, EveryGridShapeCoversEachItemOnce) {
  for (int round = 0; round < 20; ++round) {
    Grid g1({37});
    pthreadpool_parallelize_1d(
        pool_, [](void* c, size_t i) { static_cast<Grid*>(c)->mark({i}, {1}); }, &g1, 37, 0);
    EXPECT_TRUE(g1.each_once());
    Grid t1({37});
    pthreadpool_parallelize_1d_tile_1d(
        pool_, [](void* c, size_t i, size_t n) { static_cast<Grid*>(c)->mark({i}, {n}); }, &t1, 37, 5, 0);
    EXPECT_TRUE(t1.each_once());
    Grid g2({7, 9});
    pthreadpool_parallelize_2d_tile_2d(
        pool_,
        [](void* c, size_t i, size_t j, size_t ni, size_t nj) {
          static_cast<Grid*>(c)->mark({i, j}, {ni, nj});
        },
        &g2, 7, 9, 3, 4, 0);
    EXPECT_TRUE(g2.each_once());
    Grid g3({3, 5, 11});
    pthreadpool_parallelize_3d_tile_2d(
        pool_,
        [](void* c, size_t i, size_t j, size_t k, size_t nj, size_t nk) {
          static_cast<Grid*>(c)->mark({i, j, k}, {1, nj, nk});
        },
        &g3, 3, 5, 11, 2, 4, 0);
    EXPECT_TRUE(g3.each_once());
    Grid g4({2, 3, 5, 7});
    pthreadpool_parallelize_4d_tile_2d_with_uarch(
        pool_,
        [](void* c, uint32_t uarch, size_t i, size_t j, size_t k, size_t l, size_t nk, size_t nl) {
          if (uarch == 3) static_cast<Grid*>(c)->mark({i, j, k, l}, {1, 1, nk, nl});
        },
        &g4, 3, 5, 2, 3, 5, 7, 2, 3, 0);
    EXPECT_TRUE(g4.each_once());
    Grid g6({2, 2, 3, 2, 5, 4});
    pthreadpool_parallelize_6d_tile_2d(
        pool_,
        [](void* c, size_t i, size_t j, size_t k, size_t l, size_t m, size_t n, size_t nm, size_t nn) {
          static_cast<Grid*>(c)->mark({i, j, k, l, m, n}, {1, 1, 1, 1, nm, nn});
        },
        &g6, 2, 2, 3, 2, 5, 4, 2, 3, 0);
    EXPECT_TRUE(g6.each_once());
  }
  // Empty grids call nothing.
  pthreadpool_parallelize_2d(
      pool_, [](void*, size_t, size_t) { FAIL(); }, nullptr, 0, 5, 0);
}

TEST_P(PoolTest, DenormalsAreFlushedOnlyWhenAsked) {
  struct Seen {
    std::atomic<int> flushed{0}, kept{0};
  } seen;
  const auto task = [](void* c, size_t) {
    auto* s = static_cast<Seen*>(c);
    ((_mm_getcsr() & 0x8040u) == 0x8040u ? s->flushed : s->kept)++;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  };
  const unsigned before = _mm_getcsr();
  pthreadpool_parallelize_1d(pool_, task, &seen, 64, PTHREADPOOL_FLAG_DISABLE_DENORMALS);
  EXPECT_EQ(seen.flushed.load(), 64);
  EXPECT_EQ(_mm_getcsr(), before);
  pthreadpool_parallelize_1d(pool_, task, &seen, 64, 0);
  EXPECT_EQ(seen.kept.load(), 64);
}

TEST_P(PoolTest, ReportsItsThreads) {
  EXPECT_EQ(pthreadpool_get_threads_count(pool_), static_cast<size_t>(GetParam() > 0 ? GetParam() : 1));
}

INSTANTIATE_TEST_SUITE_P(Threads, PoolTest, ::testing::Values(0, 1, 2, 4));

TEST(ThreadPool, XnnpackCallsReachOspreysPool) {
  EXPECT_TRUE(thread_pool_interposed());
}

TEST(ThreadPool, ExplicitCountsAreKeptAndDefaultUsesTheCores) {
  EXPECT_EQ(make_thread_pool(1), nullptr);
  const auto pool = make_thread_pool(3);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pthreadpool_get_threads_count(pool.get()), 3u);
}

TEST(ThreadPool, CountsAboveTheLimitAreRefused) {
  EXPECT_EQ(resolve_threads(kMaxThreads), kMaxThreads);
  try {
    make_thread_pool(kMaxThreads + 1);
    FAIL() << "a pool of " << kMaxThreads + 1 << " threads was made";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "thread count 257 is above the limit of 256");
  }
  // pthreadpool's C interface cannot say why: XNNPACK asking for more gets the limit.
  pthreadpool_t clamped = pthreadpool_create(100000);
  ASSERT_NE(clamped, nullptr);
  EXPECT_EQ(pthreadpool_get_threads_count(clamped), static_cast<size_t>(kMaxThreads));
  pthreadpool_destroy(clamped);
}

// A worker that holds an item for long (as when it lost its core) makes the
// default pool run the next operations on the caller alone; an explicit
// count keeps splitting.
TEST(ThreadPool, DefaultPoolFallsBackToTheCallerWhenAWorkerStalls) {
  for (bool adaptive : {true, false}) {
    // Not watching the machine's load: other tests may keep the cores busy.
    ThreadPool pool(2, adaptive, /*watch_load=*/false);
    const auto caller = std::this_thread::get_id();
    struct Job {
      std::thread::id caller;
      std::atomic<int> on_workers{0};
    } job{caller, 0};
    // The worker's items take 5 ms, as if it had lost its core in the middle of one.
    const auto slow = [](const void* p, size_t begin, size_t end) {
      auto* j = static_cast<Job*>(const_cast<void*>(p));
      for (size_t i = begin; i < end; ++i) {
        if (std::this_thread::get_id() != j->caller) {
          j->on_workers++;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        } else {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
      }
    };
    const ThreadPoolStats before = thread_pool_stats();
    for (int i = 0; i < 5 && job.on_workers.load() == 0; ++i) pool.run(8, slow, &job, false, false);
    ASSERT_GT(job.on_workers.load(), 0) << "the worker never took an item";
    // Checked right away: the fallback lasts 20 ms.
    const int active = pool.active_threads();
    const ThreadPoolStats after = thread_pool_stats();
    if (adaptive) {
      EXPECT_EQ(active, 1);
      EXPECT_GE(after.stalls - before.stalls, 1u);
    } else {
      EXPECT_EQ(active, 2);
      EXPECT_EQ(after.stalls, before.stalls);
    }
  }
}

// Items that sleep: `worker_ms` on a worker, `caller_ms` on the caller.
// Sleeping needs no core, so the timings hold on a busy machine.
struct SleepJob {
  std::thread::id caller = std::this_thread::get_id();
  int caller_us, worker_us;
  std::atomic<int> on_workers{0};
  static void items(const void* p, size_t begin, size_t end) {
    auto* j = static_cast<SleepJob*>(const_cast<void*>(p));
    const bool worker = std::this_thread::get_id() != j->caller;
    if (worker) j->on_workers++;
    for (size_t i = begin; i < end; ++i)
      std::this_thread::sleep_for(std::chrono::microseconds(worker ? j->worker_us : j->caller_us));
  }
};

// An operation whose split costs more than it saves (here its worker's items
// are slow) runs on the caller alone once the pool has timed both ways.
TEST(ThreadPool, AnOperationThatSplitsBadlyLearnsToRunOnTheCaller) {
  ThreadPool pool(2, /*adaptive=*/false);
  SleepJob job{.caller_us = 100, .worker_us = 3000};
  constexpr uint64_t kSite = 12345;
  for (int i = 0; i < 6; ++i) pool.run(8, SleepJob::items, &job, false, false, OpSite{.key = kSite});
  ASSERT_GT(job.on_workers.load(), 0) << "the worker never took an item while learning";
  const ThreadPoolStats before = thread_pool_stats();
  job.on_workers = 0;
  for (int i = 0; i < 5; ++i) pool.run(8, SleepJob::items, &job, false, false, OpSite{.key = kSite});
  const ThreadPoolStats after = thread_pool_stats();
  EXPECT_EQ(job.on_workers.load(), 0);
  EXPECT_EQ(after.unsplit_ops - before.unsplit_ops, 5u);
  // Another operation (another site) is learned on its own: it splits
  // while it learns. Its caller's items last 1 ms, so that a worker slow to
  // wake (the other core busy) still comes before the caller is done.
  SleepJob other{.caller_us = 1000, .worker_us = 1000};
  for (int i = 0; i < 3 && other.on_workers.load() == 0; ++i)
    pool.run(8, SleepJob::items, &other, false, false, OpSite{.key = kSite + 1});
  EXPECT_GT(other.on_workers.load(), 0);
}

// An operation that gains from the split keeps it.
TEST(ThreadPool, AnOperationThatSplitsWellStaysSplit) {
  ThreadPool pool(2, /*adaptive=*/false);
  SleepJob job{.caller_us = 1000, .worker_us = 1000};
  constexpr uint64_t kSite = 777;
  for (int i = 0; i < 6; ++i) pool.run(16, SleepJob::items, &job, false, false, OpSite{.key = kSite});
  const ThreadPoolStats before = thread_pool_stats();
  job.on_workers = 0;
  for (int i = 0; i < 3; ++i) pool.run(16, SleepJob::items, &job, false, false, OpSite{.key = kSite});
  EXPECT_GT(job.on_workers.load(), 0);
  EXPECT_EQ(thread_pool_stats().unsplit_ops, before.unsplit_ops);
}

// A model whose operations each run faster split, but whose inferences run
// slower (here the step after a split operation waits, as when it reads
// what the other core wrote), ends up with every operation on the caller.
// The wait is long enough that a loaded machine's late wake-ups (16 sleeps
// an inference on the caller against 9 split) cannot make the split win: at
// 6 ms, wake-ups 0.3 ms late made the probes win and the model split again.
TEST(ThreadPool, AModelWhoseInferencesSplitBadlyRunsOnTheCaller) {
  ThreadPool pool(2, /*adaptive=*/false);
  SleepJob job{.caller_us = 500, .worker_us = 500};
  const int owner = 0;
  const auto inference = [&] {
    for (uint32_t step = 0; step < 2; ++step) {
      const int before = job.on_workers.load();
      pool.run(8, SleepJob::items, &job, false, false,
               OpSite{.key = 100 + step, .owner = &owner, .step = step});
      if (job.on_workers.load() != before) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  const ThreadPoolStats start = thread_pool_stats();
  for (uint32_t i = 0; i < ThreadPool::kLearningInferences; ++i) inference();
  const ThreadPoolStats before = thread_pool_stats();
  EXPECT_EQ(before.learning_inferences - start.learning_inferences, ThreadPool::kLearningInferences);
  job.on_workers = 0;
  for (int i = 0; i < 3; ++i) inference();
  EXPECT_EQ(job.on_workers.load(), 0);
  EXPECT_EQ(thread_pool_stats().unsplit_ops - before.unsplit_ops, 6u);
  // Learning is over: `osprey bench` ends its warm-up here.
  EXPECT_EQ(thread_pool_stats().learning_inferences, before.learning_inferences);
  // Once the choice is checked, the model stays on the caller but for its
  // probes: a few split inferences, which lose, so it does not learn again.
  for (uint32_t i = ThreadPool::kLearningInferences + 3; i < ThreadPool::kSettlingInferences; ++i)
    inference();
  const ThreadPoolStats settled = thread_pool_stats();
  uint32_t split = 0;
  for (uint32_t i = 0; i < ThreadPool::kProbeRecoveryInferences; ++i) {
    const int workers_before = job.on_workers.load();
    inference();
    split += job.on_workers.load() != workers_before ? 1 : 0;
  }
  EXPECT_GT(split, 0u) << "no probe";
  EXPECT_LE(split, ThreadPool::kProbeRecoveryInferences / 8);
  EXPECT_EQ(thread_pool_stats().learning_inferences, settled.learning_inferences);
}

// A model twice as fast split keeps splitting, though a slow spell of the
// machine hit the first inferences the pool timed (here 3 of them, 25 ms
// longer each): splitting and the caller take turns while the pool learns,
// so the spell slows both ways, and the median of each way passes it by.
TEST(ThreadPool, AModelFasterSplitStaysSplitThroughASlowSpell) {
  ThreadPool pool(2, /*adaptive=*/false);
  SleepJob job{.caller_us = 1000, .worker_us = 1000};
  const int owner = 0;
  int inferences = 0;
  const auto inference = [&] {
    const bool spell = inferences >= 2 && inferences < 5;  // after the warm-up
    ++inferences;
    pool.run(16, SleepJob::items, &job, false, false, OpSite{.key = 200, .owner = &owner, .step = 0});
    if (spell) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    pool.run(2, SleepJob::items, &job, false, false, OpSite{.key = 201, .owner = &owner, .step = 1});
  };
  for (uint32_t i = 0; i < ThreadPool::kLearningInferences; ++i) inference();
  const ThreadPoolStats before = thread_pool_stats();
  for (int i = 0; i < 3; ++i) inference();
  EXPECT_EQ(thread_pool_stats().unsplit_ops - before.unsplit_ops, 0u);
  EXPECT_EQ(thread_pool_stats().parallel_ops - before.parallel_ops, 6u);
}

// Runs `inferences` inferences of a model twice as fast split, whose split
// inferences are slow (25 ms more) up to inference `slow_until`, on a pool
// of 2 threads; returns which ones split.
std::vector<bool> split_inferences(uint32_t slow_until, uint32_t inferences) {
  ThreadPool pool(2, /*adaptive=*/false);
  SleepJob job{.caller_us = 1000, .worker_us = 1000};
  const int owner = 0;
  std::vector<bool> split;
  while (split.size() < inferences) {
    const int before = job.on_workers.load();
    pool.run(8, SleepJob::items, &job, false, false, OpSite{.key = 300, .owner = &owner, .step = 0});
    split.push_back(job.on_workers.load() != before);
    if (split.back() && split.size() <= slow_until)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    pool.run(2, SleepJob::items, &job, false, false, OpSite{.key = 301, .owner = &owner, .step = 1});
  }
  return split;
}

// A model whose every split inference was slow while the pool first learned
// (a new process's second core slow to come) runs on the caller at first,
// and splits again once the pool has checked its choice: after
// ThreadPool::kSettlingInferences, where `osprey bench` starts timing.
TEST(ThreadPool, AFirstChoiceMisledAtStartIsCheckedAgain) {
  const std::vector<bool> split =
      split_inferences(ThreadPool::kLearningInferences, ThreadPool::kSettlingInferences + 3);
  EXPECT_FALSE(split[ThreadPool::kLearningInferences]) << "the first choice was not misled";
  for (uint32_t i = ThreadPool::kSettlingInferences; i < split.size(); ++i) EXPECT_TRUE(split[i]) << i;
}

// A model whose split inferences were slow through its first choice and the
// check of it (a slow spell of the machine longer than both) stays on the
// caller only until its probes see the split win again.
TEST(ThreadPool, ACallerChoiceOutlastingItsSpellIsProbed) {
  const uint32_t recovered = ThreadPool::kSettlingInferences + ThreadPool::kProbeRecoveryInferences;
  const std::vector<bool> split = split_inferences(ThreadPool::kSettlingInferences, recovered + 3);
  EXPECT_FALSE(split[ThreadPool::kSettlingInferences]) << "the check was not misled";
  for (uint32_t i = recovered; i < split.size(); ++i) EXPECT_TRUE(split[i]) << i;
}

// While another task of this machine keeps a core busy, a default pool (one
// thread per core) runs its operations on the caller; an explicit count
// keeps splitting.
TEST(ThreadPool, DefaultPoolStaysOnTheCallerWhileAnotherTaskWantsACore) {
  const int cores = resolve_threads(0);
  if (cores < 2) GTEST_SKIP() << "one core: no pool to make";
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop.load(std::memory_order_relaxed)) _mm_pause();
  });
  for (bool adaptive : {true, false}) {
    ThreadPool pool(cores, adaptive);
    SleepJob job{.caller_us = 10, .worker_us = 10};
    // The pool counts the runnable tasks at most once a millisecond.
    for (int i = 0; i < 3; ++i) {
      pool.run(4, SleepJob::items, &job, false, false);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_EQ(pool.active_threads(), adaptive ? 1 : cores) << (adaptive ? "default pool" : "explicit count");
  }
  stop = true;
  busy.join();
}

// Workers late for an operation (descheduled, as on a loaded machine: here
// more threads than cores) must claim nothing of the next one, whatever its
// item count: every item of every operation runs exactly once.
TEST(ThreadPool, LateWorkersNeverRunItemsOfTheNextOperation) {
  ThreadPool pool(4, /*adaptive=*/false);
  struct Job {
    std::vector<std::atomic<int>> hits = std::vector<std::atomic<int>>(256);
  } job;
  const auto count_items = [](const void* p, size_t begin, size_t end) {
    auto* j = static_cast<Job*>(const_cast<void*>(p));
    for (size_t i = begin; i < end; ++i) j->hits[i]++;
  };
  int wrong = 0;
  for (int op = 0; op < 200000 && wrong == 0; ++op) {
    const size_t count = 2 + static_cast<size_t>(op % 5) * 50;  // grows, then drops
    pool.run(count, count_items, &job, false, false);
    for (size_t i = 0; i < job.hits.size(); ++i) {
      if (job.hits[i].exchange(0) != (i < count ? 1 : 0)) ++wrong;
    }
  }
  EXPECT_EQ(wrong, 0);
}

}  // namespace
}  // namespace osprey
