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
// A pool made for the default thread count (make_thread_pool(0)) also
// adapts: when the caller waits long for a worker descheduled in the middle
// of an item, or the workers miss operation after operation or run too few
// of the items to pay for the split, it runs
// operations on the caller alone for a while (longer each time the workers
// lose again, up to kMaxSerial), then tries the workers again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

struct pthreadpool;

namespace osprey {

// A pool for `threads` threads, the caller included: null for 1 (everything
// runs on the caller). 0 means one per core this process may use, with the
// adaptation above; an explicit count is kept as it is.
std::shared_ptr<pthreadpool> make_thread_pool(int threads);

// What the pools of this process did so far (all pools together).
struct ThreadPoolStats {
  uint64_t parallel_ops = 0;  // operations split over the workers
  uint64_t serial_ops = 0;    // operations a multi-thread pool ran on the caller alone
  uint64_t stalls = 0;        // times the workers lost and the pool fell back to the caller
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

  ThreadPool(int threads, bool adaptive);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }
  // The threads the next operation will use: 1 while the pool runs on the
  // caller alone, so that kernels sizing their split by it (osprey's sparse
  // convolution) do not cut work for threads that will not come.
  int active_threads() const;
  // Runs every item of [0, count) once on the pool's threads and
  // returns when all calls have returned. Calls from several threads are
  // serialised. `disable_denormals` sets FTZ/DAZ on every thread running
  // items for the operation (pthreadpool's PTHREADPOOL_FLAG_DISABLE_DENORMALS).
  void run(size_t count, Items items, const void* job, bool disable_denormals, bool yield_workers);
  // The same on the calling thread alone (what a null pthreadpool does).
  static void run_on_caller(size_t count, Items items, const void* job, bool disable_denormals);

 private:
  struct State;
  void worker_main(int self);
  void adapt(double work_seconds, double tail_seconds, size_t items, size_t worker_items);

  int threads_;
  bool adaptive_;
  std::unique_ptr<State> state_;
};

}  // namespace osprey
