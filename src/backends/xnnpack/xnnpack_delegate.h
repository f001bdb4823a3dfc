// The XNNPACK backend ("xnnpack"): contiguous runs of fp32 ops XNNPACK can
// express exactly become XNNPACK runtimes (weights packed once, when the
// model is loaded); the rest is left to the backends after it. A runtime's
// boundary tensors live in osprey's arena and are handed to XNNPACK as
// external values (no copies); tensors inside a runtime are XNNPACK's own.
//
// The code is split by job: lowering.h (op -> subgraph nodes),
// partition.h (which runs to claim, where runtimes end), run_kernel.h (the
// runtime as a Kernel), this class tying them together.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "runtime/delegate.h"

struct pthreadpool;

namespace osprey {

struct XnnpackOptions {
  int threads = 0;  // 0: the default pool (make_thread_pool(0)); 1: no thread pool at all
  // Cut a run into several XNNPACK runtimes when the weights they pack pass
  // this many bytes, so unpacked and packed copies of all weights never
  // coexist (0: never cut; see PackedSteps in delegate.h).
  size_t pack_chunk_bytes = size_t{24} << 20;
  // Ops per XNNPACK runtime (0: each maximal run in one, as TFLite's
  // delegate does). Tensors read outside the run stay external, in osprey's
  // arena; the rest are XNNPACK's own, in the runtime's workspace. With 1,
  // every op gets its own runtime (a PAD or clamp XNNPACK would fuse stays
  // with its neighbour) and profiles show every op.
  int max_ops_per_runtime = 0;
  // A tensor over this many bytes ends the runtime that writes it, so it
  // lives in osprey's arena (planned across the whole model, and hot in
  // cache) rather than in a runtime's own workspace (0: no limit). Debian's
  // XNNPACK (2022-02) cannot share one workspace between runtimes, which is
  // why runtimes held one op at first: whole runs add up their workspaces
  // (peak RSS +15 MiB on pose_landmark_heavy, past the bound
  // docs/benchmarks.md checks) and touch more memory per inference (whole
  // runs: face_detection_short_range 14% slower on one thread; 32 KiB: as
  // fast as one op per runtime).
  size_t max_internal_bytes = size_t{32} << 10;
};

class XnnpackDelegate final : public Delegate {
 public:
  // `pool` is the thread pool to run on (shared with other backends of a
  // stack); without one, the delegate makes its own of `options.threads`.
  explicit XnnpackDelegate(const XnnpackOptions& options = {}, std::shared_ptr<pthreadpool> pool = nullptr);
  ~XnnpackDelegate() override;

  std::string name() const override { return "XNNPACK"; }
  std::vector<DelegatedRun> partition(const Graph& graph, const std::vector<const Op*>& ops,
                                      PackedSteps& packed) override;

  // Why `op` stays off XNNPACK, or "" when XNNPACK takes it.
  static std::string unsupported_reason(const Graph& graph, const Op& op);

 private:
  std::shared_ptr<pthreadpool> pool_;  // null when single-threaded
  XnnpackOptions options_;
};

}  // namespace osprey
