#include "backends/thread_pool.h"

#include <dlfcn.h>
#include <immintrin.h>
#include <linux/futex.h>
#include <pthreadpool.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <mutex>
#include <thread>
#include <vector>

#include "backends/backend.h"
#include "core/error.h"

namespace osprey {

namespace {

using Clock = std::chrono::steady_clock;

// How long an idle worker spins for the next operation before it sleeps:
// longer than the gap between two operations of one inference, short enough
// not to burn a core between inferences.
constexpr auto kWorkerSpin = std::chrono::microseconds(100);
// How long the caller spins for the workers' last items before it sleeps.
constexpr auto kCallerSpin = std::chrono::microseconds(50);
// Adaptation: one wait this long for a descheduled worker, or workers
// absent this many operations in a row, or, over kWindow operations, waits
// above kLostShare of the time or workers running under kMinWorkerShare of
// the items (less than that does not pay for splitting the work), and the
// caller runs alone for a while.
constexpr double kStallSeconds = 1e-3;
constexpr int kAbsentOps = 8;
constexpr int kWindow = 64;
constexpr double kLostShare = 0.15;
constexpr double kMinWorkerShare = 0.2;
constexpr auto kMinSerial = std::chrono::milliseconds(20);
constexpr auto kMaxSerial = std::chrono::milliseconds(2000);

std::atomic<uint64_t> g_parallel_ops{0}, g_serial_ops{0}, g_stalls{0};

void futex_wait(std::atomic<uint32_t>& word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

void futex_wake_all(std::atomic<uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

// FTZ and DAZ for the scope, as pthreadpool sets them when asked to.
class DenormalsOff {
 public:
  explicit DenormalsOff(bool on) : on_(on) {
    if (on_) {
      saved_ = _mm_getcsr();
      _mm_setcsr(saved_ | 0x8040u);
    }
  }
  ~DenormalsOff() {
    if (on_) _mm_setcsr(saved_);
  }
  DenormalsOff(const DenormalsOff&) = delete;
  DenormalsOff& operator=(const DenormalsOff&) = delete;

 private:
  bool on_;
  unsigned saved_ = 0;
};

}  // namespace

// Each thread owns a contiguous share of an operation's items and steals
// from the others when done. A share's next item is tagged with the
// operation's generation, so a worker waking late for an operation that has
// finished claims nothing and never reads the next operation's job.
struct ThreadPool::State {
  struct alignas(64) Share {
    std::atomic<uint64_t> next{0};  // generation << 32 | next item
    std::atomic<uint32_t> end{0};
  };
  explicit State(int threads) : shares(static_cast<size_t>(threads)) {}

  // Claims items [first, last) of operation `generation` from `share`: half
  // of what is left (at least one), so a share goes in a few claims while
  // its tail stays small enough for another thread to steal.
  static bool claim(Share& share, uint32_t generation, uint32_t& first, uint32_t& last) {
    uint64_t v = share.next.load(std::memory_order_acquire);
    for (;;) {
      if (static_cast<uint32_t>(v >> 32) != generation) return false;
      const auto i = static_cast<uint32_t>(v);
      const uint32_t end = share.end.load(std::memory_order_relaxed);
      if (i >= end) return false;
      const uint32_t take = std::max<uint32_t>(1, (end - i) / 2);
      if (share.next.compare_exchange_weak(v, v + take, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
        first = i;
        last = i + take;
        return true;
      }
    }
  }

  // Runs items of operation `generation` until none is left; returns how many.
  uint32_t work(int self, uint32_t generation) {
    uint32_t ran = 0;
    bool started = false;
    Items fn = nullptr;
    const void* args = nullptr;
    uint32_t count = 0;
    bool denormals = false;
    unsigned saved_csr = 0;
    const int n = static_cast<int>(shares.size());
    for (int k = 0; k < n; ++k) {
      Share& share = shares[static_cast<size_t>((self + k) % n)];
      uint32_t first = 0, last = 0;
      while (claim(share, generation, first, last)) {
        if (!started) {
          // The operation cannot finish while this thread holds an item: its job stays put.
          fn = item.load(std::memory_order_relaxed);
          args = job.load(std::memory_order_relaxed);
          count = items.load(std::memory_order_relaxed);
          denormals = disable_denormals.load(std::memory_order_relaxed);
          if (denormals && self != 0) {
            saved_csr = _mm_getcsr();
            _mm_setcsr(saved_csr | 0x8040u);
          }
          started = true;
        }
        fn(args, first, last);
        ran += last - first;
      }
    }
    if (started && denormals && self != 0) _mm_setcsr(saved_csr);
    // Counted once per thread, not per item: `done` is the one line every
    // thread writes, and bouncing it between cores for each item cost more
    // than splitting small operations saved.
    if (ran > 0 && done.fetch_add(ran, std::memory_order_seq_cst) + ran == count &&
        caller_sleeping.load(std::memory_order_seq_cst) != 0) {
      futex_wake_all(done);
    }
    return ran;
  }

  std::vector<Share> shares;  // one per thread, the caller's first
  // The operation in progress (read by workers only while they hold one of its items).
  std::atomic<Items> item{nullptr};
  std::atomic<const void*> job{nullptr};
  std::atomic<uint32_t> items{0};
  std::atomic<bool> disable_denormals{false};
  std::atomic<bool> yield_workers{false};
  alignas(64) std::atomic<uint32_t> done{0};
  alignas(64) std::atomic<uint32_t> generation{0};  // workers sleep on it
  std::atomic<uint32_t> sleepers{0};
  std::atomic<uint32_t> caller_sleeping{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  std::mutex run_mutex;
  // Adaptation, caller only (under run_mutex); serial_until also read by active_threads().
  std::atomic<Clock::rep> serial_until{0};
  Clock::duration serial_for = kMinSerial;
  bool probing = false;  // the first window after a fallback
  int absent_streak = 0, window_ops = 0;
  double window_work = 0, window_lost = 0;
  uint64_t window_items = 0, window_worker_items = 0;
};

ThreadPool::ThreadPool(int threads, bool adaptive)
    : threads_(threads), adaptive_(adaptive), state_(std::make_unique<State>(threads)) {
  OSPREY_CHECK(threads >= 1, "a thread pool needs at least one thread, not {}", threads);
  for (int t = 1; t < threads; ++t) state_->workers.emplace_back([this, t] { worker_main(t); });
}

ThreadPool::~ThreadPool() {
  state_->stop.store(true, std::memory_order_seq_cst);
  state_->generation.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(state_->generation);
  for (std::thread& w : state_->workers) w.join();
}

void ThreadPool::worker_main(int self) {
  State& s = *state_;
  uint32_t seen = 0;
  for (;;) {
    uint32_t g = s.generation.load(std::memory_order_acquire);
    if (g == seen && !s.yield_workers.load(std::memory_order_relaxed)) {
      const auto until = Clock::now() + kWorkerSpin;
      for (int spins = 0; g == seen; ++spins) {
        _mm_pause();
        if ((spins & 63) == 63 && Clock::now() > until) break;
        g = s.generation.load(std::memory_order_acquire);
      }
    }
    while (g == seen) {
      s.sleepers.fetch_add(1, std::memory_order_seq_cst);
      if (s.generation.load(std::memory_order_seq_cst) == seen) futex_wait(s.generation, seen);
      s.sleepers.fetch_sub(1, std::memory_order_seq_cst);
      g = s.generation.load(std::memory_order_acquire);
    }
    if (s.stop.load(std::memory_order_acquire)) return;
    seen = g;
    s.work(self, g);
  }
}

void ThreadPool::run_on_caller(size_t count, Items items, const void* job, bool disable_denormals) {
  DenormalsOff denormals(disable_denormals);
  items(job, 0, count);
}

void ThreadPool::run(size_t count, Items items, const void* job, bool disable_denormals, bool yield_workers) {
  State& s = *state_;
  std::lock_guard lock(s.run_mutex);
  if (count <= 1 || threads_ == 1 || count > UINT32_MAX) {
    run_on_caller(count, items, job, disable_denormals);
    return;
  }
  if (active_threads() == 1) {
    g_serial_ops.fetch_add(1, std::memory_order_relaxed);
    run_on_caller(count, items, job, disable_denormals);
    return;
  }
  g_parallel_ops.fetch_add(1, std::memory_order_relaxed);
  const auto start = Clock::now();
  // Publish: the job, then each share (tagged with the new generation), then the generation.
  const uint32_t generation = s.generation.load(std::memory_order_relaxed) + 1;
  s.item.store(items, std::memory_order_relaxed);
  s.job.store(job, std::memory_order_relaxed);
  s.items.store(static_cast<uint32_t>(count), std::memory_order_relaxed);
  s.disable_denormals.store(disable_denormals, std::memory_order_relaxed);
  s.yield_workers.store(yield_workers, std::memory_order_relaxed);
  s.done.store(0, std::memory_order_relaxed);
  const size_t n = s.shares.size();
  size_t begin = 0;
  for (size_t t = 0; t < n; ++t) {
    const size_t end = begin + count / n + (t < count % n ? 1 : 0);
    s.shares[t].end.store(static_cast<uint32_t>(end), std::memory_order_relaxed);
    s.shares[t].next.store(static_cast<uint64_t>(generation) << 32 | begin, std::memory_order_release);
    begin = end;
  }
  s.generation.store(generation, std::memory_order_seq_cst);
  if (s.sleepers.load(std::memory_order_seq_cst) != 0) futex_wake_all(s.generation);

  uint32_t ran = 0;
  {
    DenormalsOff denormals(disable_denormals);
    ran = s.work(0, generation);
  }
  const auto own_done = Clock::now();
  // Wait for the items workers still hold.
  const auto spin_until = own_done + kCallerSpin;
  for (int spins = 0; s.done.load(std::memory_order_acquire) != count; ++spins) {
    if ((spins & 63) != 63 || Clock::now() < spin_until) {
      _mm_pause();
      continue;
    }
    s.caller_sleeping.store(1, std::memory_order_seq_cst);
    const uint32_t d = s.done.load(std::memory_order_seq_cst);
    if (d != count) futex_wait(s.done, d);
    s.caller_sleeping.store(0, std::memory_order_seq_cst);
  }
  if (adaptive_) {
    const auto end = Clock::now();
    adapt(std::chrono::duration<double>(own_done - start).count(),
          std::chrono::duration<double>(end - own_done).count(), count, count - ran);
  }
}

int ThreadPool::active_threads() const {
  if (adaptive_ &&
      Clock::now().time_since_epoch().count() < state_->serial_until.load(std::memory_order_relaxed))
    return 1;
  return threads_;
}

void ThreadPool::adapt(double work_seconds, double tail_seconds, size_t items, size_t worker_items) {
  State& s = *state_;
  s.absent_streak = worker_items > 0 ? 0 : s.absent_streak + 1;
  s.window_work += work_seconds + tail_seconds;
  s.window_lost += tail_seconds;
  s.window_items += items;
  s.window_worker_items += worker_items;
  const bool window_done = s.window_ops + 1 >= kWindow;
  const bool lost = tail_seconds > kStallSeconds || s.absent_streak >= kAbsentOps ||
                    (window_done && (s.window_lost > kLostShare * s.window_work ||
                                     static_cast<double>(s.window_worker_items) <
                                         kMinWorkerShare * static_cast<double>(s.window_items)));
  if (++s.window_ops >= kWindow || lost) {
    if (!lost) {
      s.probing = false;
      s.serial_for = kMinSerial;
    }
    s.window_ops = 0;
    s.window_work = s.window_lost = 0;
    s.window_items = s.window_worker_items = 0;
  }
  if (!lost) return;
  g_stalls.fetch_add(1, std::memory_order_relaxed);
  // Losing again right after a fallback: stay on the caller longer.
  if (s.probing) s.serial_for = std::min<Clock::duration>(s.serial_for * 2, kMaxSerial);
  s.serial_until.store((Clock::now() + s.serial_for).time_since_epoch().count(), std::memory_order_relaxed);
  s.probing = true;
  s.absent_streak = 0;
}

ThreadPoolStats thread_pool_stats() {
  return {g_parallel_ops.load(), g_serial_ops.load(), g_stalls.load()};
}

bool thread_pool_interposed() {
  // What a shared library's call to pthreadpool_parallelize_2d_tile_2d binds to.
  using Fn =
      void (*)(pthreadpool_t, pthreadpool_task_2d_tile_2d_t, void*, size_t, size_t, size_t, size_t, uint32_t);
  void* bound = dlsym(RTLD_DEFAULT, "pthreadpool_parallelize_2d_tile_2d");
  return bound == reinterpret_cast<void*>(static_cast<Fn>(&pthreadpool_parallelize_2d_tile_2d));
}

std::shared_ptr<pthreadpool> make_thread_pool(int threads) {
  OSPREY_CHECK(threads >= 0, "a thread pool needs at least one thread, not {}", threads);
  const int n = resolve_threads(threads);
  if (n == 1 || !thread_pool_interposed()) return nullptr;
  pthreadpool* pool = threads == 0 ? pthreadpool_create(0) : pthreadpool_create(static_cast<size_t>(n));
  if (!pool) fail("cannot create a pool of {} threads", n);
  return std::shared_ptr<pthreadpool>(pool, [](pthreadpool* p) { pthreadpool_destroy(p); });
}

}  // namespace osprey
