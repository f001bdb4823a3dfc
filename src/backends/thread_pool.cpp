#include "backends/thread_pool.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <immintrin.h>
#include <linux/futex.h>
#include <pthreadpool.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/split.h"
#include "runtime/step_site.h"

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
// How often a default pool counts the runnable tasks of the machine: often
// enough to see a busy process before it costs a stall, rarely enough that
// reading /proc/loadavg (~2 us) is noise.
constexpr auto kLoadCheckEvery = std::chrono::milliseconds(1);
// Per operation: how many runs of each kind (split, on the caller alone) it
// is timed for before the pool keeps the faster, by how much splitting must
// win to be kept, and after how many runs it learns again.
constexpr uint32_t kLearnRuns = 3;
constexpr int64_t kSplitGainPercent = 90;
constexpr uint32_t kRelearnRuns = 256;
constexpr size_t kSites = 1024;  // a power of two
// Per model: how many inferences warm it up before any is timed, how many
// it times each way, how many at most it spends timing both ways (while a
// busy machine keeps forcing its operations onto the caller), how soon it
// checks its first choice, and by how much its inferences must run faster
// split than on the caller alone to keep splitting.
constexpr uint32_t kModelWarmup = 2;
constexpr uint32_t kModelLearnRuns = 5;
constexpr uint32_t kModelMaxLearning = 8 * kModelLearnRuns;
constexpr uint32_t kRelearnSoon = 32;
constexpr int64_t kModelSplitGainPercent = 95;
// A model kept on the caller probes splitting every kProbeEvery inferences:
// two split inferences, the second timed against the kProbeCallerRuns on
// the caller before them (the first pays for setting XNNPACK's tiles up for
// two threads again and for the other core's cold cache, and one probe
// alone lost by 10% where the split ran 35% faster). After kProbeWins
// probes won in a row the model learns again. A spell that misled the
// choice (the second core slow for seconds at a time) then costs
// tens of inferences, not hundreds; a model faster on the caller splits one
// inference in 16.
constexpr uint32_t kProbeEvery = 32;
constexpr uint32_t kProbeSplitRuns = 2;
constexpr uint32_t kProbeCallerRuns = 3;
constexpr uint32_t kProbeWins = 2;
constexpr size_t kModels = 16;

std::atomic<uint64_t> g_parallel_ops{0}, g_serial_ops{0}, g_unsplit_ops{0}, g_stalls{0},
    g_learning_inferences{0};

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

// The tasks of this machine that are runnable now (running or waiting for a
// core), from /proc/loadavg's fourth field; -1 if it cannot be read.
int runnable_tasks() {
  static const int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[128];
  const ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
  if (n <= 0) return -1;
  text[n] = '\0';
  const char* p = text;
  for (int field = 0; field < 3; ++field) {
    while (*p != '\0' && *p != ' ') ++p;
    if (*p == '\0') return -1;
    ++p;
  }
  int running = 0;
  for (; *p >= '0' && *p <= '9'; ++p) running = running * 10 + (*p - '0');
  return *p == '/' ? running : -1;
}

// The fastest of a few timed runs of each of N kinds. In integer clock
// ticks: floating point here would set the caller's MXCSR flags.
template <int N>
struct BestOf {
  uint32_t samples[N] = {};
  int64_t best[N] = {};

  void record(int kind, Clock::duration took, uint32_t limit) {
    uint32_t& n = samples[kind];
    if (n < limit) best[kind] = n++ == 0 ? took.count() : std::min(best[kind], took.count());
  }
  // Kind `a` measured at least (100 - gain_percent)% faster than kind `b`,
  // or measured where `b` was not (its runs all disturbed).
  bool wins(int a, int b, int64_t gain_percent) const {
    return samples[a] > 0 && (samples[b] == 0 || best[a] * 100 < best[b] * gain_percent);
  }
};

// The median of a few timed runs of each of N kinds, in clock ticks: the
// typical run, where the best one flatters a way that only sometimes runs
// fast (a split whose worker was at hand).
template <int N, uint32_t Runs>
struct MedianOf {
  uint32_t samples[N] = {};
  int64_t took[N][Runs] = {};

  void record(int kind, Clock::duration d) {
    if (samples[kind] < Runs) took[kind][samples[kind]++] = d.count();
  }
  int64_t median(int kind) const {
    // Insertion sort: a handful of values (std::sort trips GCC's bounds warning on an array this short).
    int64_t sorted[Runs];
    const uint32_t n = samples[kind];
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t j = i;
      for (; j > 0 && sorted[j - 1] > took[kind][i]; --j) sorted[j] = sorted[j - 1];
      sorted[j] = took[kind][i];
    }
    return sorted[n / 2];
  }
  // Kind `a`'s median at least (100 - gain_percent)% below kind `b`'s.
  bool wins(int a, int b, int64_t gain_percent) const {
    return samples[a] > 0 && (samples[b] == 0 || median(a) * 100 < median(b) * gain_percent);
  }
};

// What the pool learned about one parallel operation: [0] on the caller
// alone, [1] split.
struct OpStats {
  explicit OpStats(uint64_t k = 0) : key(k) {}
  uint64_t key;
  uint32_t runs = 0;  // since learning (re)started
  BestOf<2> timing;

  bool split() const {
    if (timing.samples[1] < kLearnRuns) return true;
    if (timing.samples[0] < kLearnRuns) return false;
    return timing.wins(1, 0, kSplitGainPercent);
  }
  void record(bool was_split, Clock::duration took) {
    timing.record(was_split ? 1 : 0, took, kLearnRuns);
    if (++runs >= kRelearnRuns) *this = OpStats(key);
  }
};

// How a model's inference runs its parallel operations.
enum class ModelMode : uint8_t {
  kSplit,   // every one split
  kCaller,  // every one on the caller alone
};

// What the pool learned about one model (an interpreter's inferences, from
// its first parallel operation to its last). Splitting an operation leaves
// half of its output in the other core's cache, and the operations after it
// pay for that: timing operations one by one cannot see it. So whole
// inferences are timed: after kModelWarmup untimed ones (a process's first
// runs are up to 3x slower, split or not), split and on the caller in turn
// until each way has kModelLearnRuns timings, so that a slow spell of the
// machine lands on both ways rather than on all the runs of one; then the
// way of the lower median is kept, the split only if it beats the caller
// by 5%. An inference with an operation forced onto the caller (a busy
// machine) does not count. The first choice is checked again soon (a spell
// longer than the learning can mislead it), later ones every kRelearnRuns
// inferences; between, every inference keeps the mode chosen, except that a
// caller choice is probed (kProbeEvery) and learned again when splitting
// wins: a caller choice made in a spell would otherwise outlast it.
struct ModelStats {
  explicit ModelStats(const void* o = nullptr) : owner(o) {}
  const void* owner;
  uint32_t first_step = 0, last_step = 0;
  uint32_t inferences = 0;    // begun since learning (re)started
  uint32_t relearn_at = 0;    // set when learning ends
  bool chose_before = false;  // learning has ended once already
  bool in_inference = false;
  uint32_t chosen_at = 0;                // the inference learning ended at
  uint32_t probe_wins = 0;               // probes in a row that beat the caller
  ModelMode choice = ModelMode::kSplit;  // learning's
  ModelMode mode = ModelMode::kSplit;    // this inference's
  bool timed = false;                    // this inference's time is a sample of its mode
  bool disturbed = false;                // an operation of it had to run on the caller (busy machine)
  Clock::time_point start{}, end{};
  MedianOf<2, kModelLearnRuns> timing;  // by ModelMode

  // Called with every parallel operation of the model before it runs.
  void begin_op(const OpSite& site) {
    const bool first = site.call == 0 && (site.step <= first_step || site.step < last_step);
    if (!in_inference || first || site.step < last_step) {
      if (in_inference && timed && !disturbed) timing.record(static_cast<int>(mode), end - start);
      begin_inference();
      first_step = site.step;
    }
    last_step = site.step;
  }

 private:
  void begin_inference() {
    if (relearn_at != 0 && (inferences >= relearn_at || probes_won())) {
      inferences = kModelWarmup;  // warm already
      relearn_at = 0;
      timing = {};
    }
    const uint32_t index = inferences++;
    const bool sampled =
        timing.samples[kSplit] >= kModelLearnRuns && timing.samples[kCaller] >= kModelLearnRuns;
    const bool learning =
        index >= kModelWarmup && relearn_at == 0 && !sampled && index < kModelWarmup + kModelMaxLearning;
    timed = learning;
    if (index < kModelWarmup) {
      mode = ModelMode::kSplit;
    } else if (learning) {
      mode = static_cast<ModelMode>((index - kModelWarmup) % 2);
    } else if (relearn_at == 0) {  // learning just ended: choose once
      relearn_at = index + (chose_before ? kRelearnRuns : kRelearnSoon);
      chose_before = true;
      choice = timing.wins(kSplit, kCaller, kModelSplitGainPercent) ? ModelMode::kSplit : ModelMode::kCaller;
      mode = choice;
      chosen_at = index;
      probe_wins = 0;
    } else if (choice == ModelMode::kCaller) {
      // The cycle ends with kProbeCallerRuns timed on the caller, then the
      // probe's split runs, the last timed.
      const uint32_t from_end = kProbeEvery - 1 - (index - chosen_at) % kProbeEvery;
      const bool probe = from_end < kProbeSplitRuns;
      if (from_end == kProbeSplitRuns + kProbeCallerRuns - 1) timing = {};
      timed = from_end == 0 || (!probe && from_end < kProbeSplitRuns + kProbeCallerRuns);
      mode = probe ? ModelMode::kSplit : ModelMode::kCaller;
    }
    if (index < kModelWarmup || learning) g_learning_inferences.fetch_add(1, std::memory_order_relaxed);
    in_inference = true;
    disturbed = false;
    // The clock is read only for inferences being timed: a model that
    // learned to run on the caller costs no more than on one thread, but
    // for the few around a probe.
    if (timed) start = end = Clock::now();
  }

  // After a probe (the caller choice's split inference, just recorded):
  // whether the probes have beaten the caller kProbeWins times in a row.
  bool probes_won() {
    // A probe disturbed by a busy machine was not timed: it neither wins nor loses.
    if (choice != ModelMode::kCaller || mode != ModelMode::kSplit || !timed || timing.samples[kSplit] == 0 ||
        timing.samples[kCaller] == 0)
      return false;
    probe_wins = timing.wins(kSplit, kCaller, kModelSplitGainPercent) ? probe_wins + 1 : 0;
    return probe_wins >= kProbeWins;
  }

  static constexpr int kSplit = static_cast<int>(ModelMode::kSplit),
                       kCaller = static_cast<int>(ModelMode::kCaller);
};

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

}  // namespace

const uint32_t ThreadPool::kLearningInferences = kModelWarmup + 2 * kModelLearnRuns;
const uint32_t ThreadPool::kSettlingInferences = kLearningInferences + kRelearnSoon + 2 * kModelLearnRuns;
const uint32_t ThreadPool::kProbeRecoveryInferences = kProbeWins * kProbeEvery + 2 * kModelLearnRuns + 1;

OpSite ThreadPool::site_of(uintptr_t task, const void* context, size_t count) {
  StepSite& step = current_step_site();
  OpSite site;
  uint64_t h = task;
  // Inside an interpreter's step, the step and the operation's place in it
  // name the operation (its item count changes with the tiles XNNPACK picks
  // for the threads it is told of); elsewhere its task, context and count
  // are the best guess.
  if (step.owner) {
    site.owner = step.owner;
    site.step = step.step;
    site.call = step.calls++;
    h = mix(mix(mix(h, reinterpret_cast<uintptr_t>(step.owner)), site.step), site.call);
  } else {
    h = mix(mix(h, reinterpret_cast<uintptr_t>(context)), count);
  }
  site.key = h | 1;  // 0 marks an empty slot
  return site;
}

// Each thread owns a contiguous share of an operation's items (share_begin,
// core/split.h) and steals from the others when done. A share's next item is
// tagged with the operation's generation, so a worker waking late for an
// operation that has finished claims nothing and never reads the next
// operation's job.
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
      // Acquire: an `end` of the next operation comes with its tagged
      // `next` (stored before it), so the CAS below then fails.
      const uint32_t end = share.end.load(std::memory_order_acquire);
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
  // Adaptation and learning, caller only (under run_mutex); serial_until and contended
  // also read by active_threads().
  std::atomic<Clock::rep> serial_until{0};
  std::atomic<bool> contended{false};
  Clock::time_point next_load_check{};
  std::vector<OpStats> ops = std::vector<OpStats>(kSites);
  std::vector<ModelStats> models = std::vector<ModelStats>(kModels);
  size_t next_model = 0;  // the slot a new owner takes

  const ModelStats* find_model(const void* owner) const {
    if (!owner) return nullptr;
    for (const ModelStats& m : models)
      if (m.owner == owner) return &m;
    return nullptr;
  }
  ModelStats* model_of(const void* owner) {
    if (!owner) return nullptr;
    if (const ModelStats* m = find_model(owner)) return const_cast<ModelStats*>(m);
    ModelStats& m = models[next_model++ % kModels];
    m = ModelStats(owner);
    return &m;
  }
  Clock::duration serial_for = kMinSerial;
  bool probing = false;  // the first window after a fallback
  int absent_streak = 0, window_ops = 0;
  double window_work = 0, window_lost = 0;
  uint64_t window_items = 0, window_worker_items = 0;
};

ThreadPool::ThreadPool(int threads, bool adaptive, bool watch_load)
    : threads_(threads),
      adaptive_(adaptive),
      watch_load_(adaptive && watch_load),
      cores_(resolve_threads(0)),
      state_(std::make_unique<State>(threads)) {
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

void ThreadPool::run(size_t count, Items items, const void* job, bool disable_denormals, bool yield_workers,
                     const OpSite& site) {
  State& s = *state_;
  std::lock_guard lock(s.run_mutex);
  if (threads_ == 1 || count > UINT32_MAX) {
    run_on_caller(count, items, job, disable_denormals);
    return;
  }
  ModelStats* model = s.model_of(site.owner);
  if (model) model->begin_op(site);
  // Runs the operation on the caller alone; `forced`: not by choice.
  const auto on_caller = [&](bool forced) {
    run_on_caller(count, items, job, disable_denormals);
    if (model) {
      if (model->timed) model->end = Clock::now();
      model->disturbed |= forced;
    }
  };
  if (count <= 1) return on_caller(false);
  if (watch_load_) {
    const auto now = Clock::now();
    if (now >= s.next_load_check) check_load(now);
  }
  if (busy()) {
    g_serial_ops.fetch_add(1, std::memory_order_relaxed);
    return on_caller(true);
  }
  // A model's operations go as the model learned; any other operation
  // learns for itself.
  OpStats* learned = !model && site.key != 0 ? &s.ops[site.key & (kSites - 1)] : nullptr;
  if (learned && learned->key != site.key) *learned = OpStats(site.key);
  if ((model && model->mode == ModelMode::kCaller) || (learned && !learned->split())) {
    g_unsplit_ops.fetch_add(1, std::memory_order_relaxed);
    const auto start = learned ? Clock::now() : Clock::time_point{};
    on_caller(false);
    if (learned) learned->record(false, Clock::now() - start);
    return;
  }
  g_parallel_ops.fetch_add(1, std::memory_order_relaxed);
  const auto start = Clock::now();
  // Publish: the job, then each share, then the generation. A share's tagged
  // `next` goes before its `end`: a worker still in the last operation
  // (descheduled) that saw the new `end` beside that operation's `next`
  // would claim items of this one under the old tag and run them twice.
  const uint32_t generation = s.generation.load(std::memory_order_relaxed) + 1;
  s.item.store(items, std::memory_order_relaxed);
  s.job.store(job, std::memory_order_relaxed);
  s.items.store(static_cast<uint32_t>(count), std::memory_order_relaxed);
  s.disable_denormals.store(disable_denormals, std::memory_order_relaxed);
  s.yield_workers.store(yield_workers, std::memory_order_relaxed);
  s.done.store(0, std::memory_order_relaxed);
  const int n = static_cast<int>(s.shares.size());
  for (int t = 0; t < n; ++t) {
    auto& share = s.shares[static_cast<size_t>(t)];
    share.next.store(static_cast<uint64_t>(generation) << 32 | share_begin(count, n, t),
                     std::memory_order_release);
    share.end.store(static_cast<uint32_t>(share_begin(count, n, t + 1)), std::memory_order_release);
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
  const auto end = Clock::now();
  if (learned) learned->record(true, end - start);
  if (model) model->end = end;
  if (adaptive_) {
    adapt(std::chrono::duration<double>(own_done - start).count(),
          std::chrono::duration<double>(end - own_done).count(), count, count - ran);
  }
}

void ThreadPool::check_load(Clock::time_point now) {
  State& s = *state_;
  s.next_load_check = now + kLoadCheckEvery;
  const int runnable = runnable_tasks();
  if (runnable < 0) return;
  // The caller runs, and so does every worker not asleep (spinning for work
  // or waiting for a core): the rest of the runnable tasks are other work.
  const int awake_workers = threads_ - 1 - static_cast<int>(s.sleepers.load(std::memory_order_relaxed));
  const int others = runnable - 1 - std::max(awake_workers, 0);
  // More other tasks than cores this pool leaves free: one of its threads
  // would share a core, and every operation would wait for it.
  s.contended.store(others > cores_ - threads_, std::memory_order_relaxed);
}

bool ThreadPool::busy() const {
  return adaptive_ &&
         (state_->contended.load(std::memory_order_relaxed) ||
          Clock::now().time_since_epoch().count() < state_->serial_until.load(std::memory_order_relaxed));
}

int ThreadPool::active_threads() const {
  if (busy()) return 1;
  // The calling thread's model runs on the caller alone (learned): tiles
  // for one thread serve it best.
  std::lock_guard lock(state_->run_mutex);
  const ModelStats* model = state_->find_model(current_step_site().owner);
  if (model && model->mode == ModelMode::kCaller) return 1;
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

int resolve_threads(int threads) {
  OSPREY_CHECK(threads >= 0, "thread count {} must not be negative", threads);
  OSPREY_CHECK(threads <= kMaxThreads, "thread count {} is above the limit of {}", threads, kMaxThreads);
  if (threads > 0) return threads;
  // The cores this process may run on (taskset, cgroups' cpusets), else all online ones.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}

ThreadPoolStats thread_pool_stats() {
  return {g_parallel_ops.load(), g_serial_ops.load(), g_unsplit_ops.load(), g_stalls.load(),
          g_learning_inferences.load()};
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
