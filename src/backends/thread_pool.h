// The thread pool backends split their work over. One pool serves a whole
// backend stack. osprey implements pthreadpool's C interface itself
// (pthreadpool_api.cpp), so XNNPACK, which calls that interface, runs on this
// pool too. Two things differ from pthreadpool, both for machines where other
// processes keep cores busy (a camera encoding video while it infers):
//
//  - An operation is done when all its items are, not when every worker has
//    checked in. A worker that lost its core before it started costs nothing:
//    the caller does its share. pthreadpool waits for it, a scheduler time
//    slice per operation, which made 2 threads 30x slower than 1 under load.
//  - Workers spin at most kWorkerSpin for the next operation, then sleep.
//
// Every pool learns where splitting pays: per model, whole inferences split
// and on the caller alone, in turn, after a warm-up (a split leaves half of
// each output in the other core's cache, a cost the next operations pay, so
// operations timed one by one mislead); it keeps the faster, checks that
// choice again soon, then every few hundred runs. A model kept on the
// caller also probes splitting now and then, and learns again when that
// wins: a slow spell of the machine can outlast a check. An operation
// outside any model learns the same for itself.
//
// A pool made for the default thread count (make_thread_pool(0)) also
// watches the machine: while other tasks are runnable on the cores its
// threads would use (/proc/loadavg, read at most once a millisecond), and
// when the caller waits long for a worker descheduled in the middle of an
// item, or the workers miss operation after operation or run too few of the
// items to pay for the split, it runs operations on the caller alone (after
// a stall for a while, longer each time the workers lose again, up to
// kMaxSerial), then tries the workers again.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

struct pthreadpool;

namespace osprey {

// The most threads a pool takes. Threads beyond the cores spin for work on
// the cores the caller needs: with 1,000 on 2 cores, pose_detection's first
// inference took 5.3 s (5 ms on one thread) and `osprey bench` 71 s.
constexpr int kMaxThreads = 256;

// The thread count `threads` stands for: itself when positive, else the
// number of cores this process may use. Throws when `threads` is negative or
// above kMaxThreads.
int resolve_threads(int threads);

// A pool for `threads` threads, the caller included: null for 1 (everything
// runs on the caller). 0 means one per core this process may use, with the
// adaptation above; an explicit count is kept as it is.
std::shared_ptr<pthreadpool> make_thread_pool(int threads);

// Names a parallel operation, so that the pool can learn whether splitting
// it pays: `key` (0 for none) identifies it; `owner` (the interpreter, or
// null) and its `step` and `call` (its place in the step) tell the pool
// where the owner's inferences begin.
struct OpSite {
  uint64_t key = 0;
  const void* owner = nullptr;
  uint32_t step = 0, call = 0;
};

// What the pools of this process did so far (all pools together).
struct ThreadPoolStats {
  // Operations split over the workers.
  uint64_t parallel_ops = 0;
  // Operations a multi-thread pool ran on the caller alone (busy machine or fallback).
  uint64_t serial_ops = 0;
  // Operations run on the caller alone because that measured faster.
  uint64_t unsplit_ops = 0;
  // Times the workers lost and the pool fell back to the caller.
  uint64_t stalls = 0;
  // Model inferences that warmed up or timed a way to run (split or on the caller).
  uint64_t learning_inferences = 0;
};
ThreadPoolStats thread_pool_stats();

// Whether XNNPACK's calls to pthreadpool_* reach osprey's pool (they do when
// the executable links osprey_core statically; make_thread_pool returns null
// rather than hand XNNPACK a pool it cannot use).
bool thread_pool_interposed();

// The pool behind `pthreadpool*`, for pthreadpool_api.cpp and the tests.
class ThreadPool {
 public:
  // Runs items [begin, end) of `job` (a range, so running on the caller
  // alone costs one call, not one per item).
  using Items = void (*)(const void* job, size_t begin, size_t end);

  // `adaptive`: fall back to the caller while workers lose their cores, and
  // with `watch_load`, while other tasks want the cores this pool's threads
  // would use.
  ThreadPool(int threads, bool adaptive, bool watch_load = true);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The inferences a model spends learning whether splitting pays, warm-up
  // included, unless a busy machine forces its operations onto the caller.
  static const uint32_t kLearningInferences;
  // Those, the inferences before the pool checks its first choice again, and
  // the check's own: a model's first choice can be misled by a new process's
  // first tenths of a second (a virtual machine's second core is often slow
  // to come), its later ones rarely.
  static const uint32_t kSettlingInferences;
  // At most how many inferences a model kept on the caller, once splitting
  // runs faster again, takes to split again: its probes (two split
  // inferences in every 32) must win twice in a row, then it learns again.
  static const uint32_t kProbeRecoveryInferences;

  int threads() const { return threads_; }
  // The threads the next operation will use: 1 while the pool runs on the
  // caller alone (for the machine's sake, or because the calling thread's
  // model learned to), so that kernels sizing their split by it (osprey's
  // sparse convolution, XNNPACK's tiles) do not cut work for threads that
  // will not come.
  int active_threads() const;
  // Runs every item of [0, count) once on the pool's threads and
  // returns when all calls have returned. Calls from several threads are
  // serialised. `disable_denormals` sets FTZ/DAZ on every thread running
  // items for the operation (pthreadpool's PTHREADPOOL_FLAG_DISABLE_DENORMALS).
  // `site` (from site_of) names the operation: the pool times its owner's
  // whole inferences split and on the caller alone (or, without an owner,
  // the operation's own runs) and keeps the faster.
  void run(size_t count, Items items, const void* job, bool disable_denormals, bool yield_workers,
           const OpSite& site = {});
  // The site of the operation about to run: the interpreter step the calling
  // thread is in (runtime/step_site.h) and the operation's place in it, or
  // outside a step, its task and context. Counts the operation in its step.
  static OpSite site_of(uintptr_t task, const void* context, size_t count);
  // The same on the calling thread alone (what a null pthreadpool does).
  static void run_on_caller(size_t count, Items items, const void* job, bool disable_denormals);

 private:
  struct State;
  void worker_main(int self);
  void adapt(double work_seconds, double tail_seconds, size_t items, size_t worker_items);
  void check_load(std::chrono::steady_clock::time_point now);
  // Whether operations run on the caller alone for the machine's sake (other
  // tasks want the cores, or a worker stalled).
  bool busy() const;

  int threads_;
  bool adaptive_;
  bool watch_load_;
  int cores_;  // the cores this process may use
  std::unique_ptr<State> state_;
};

}  // namespace osprey
