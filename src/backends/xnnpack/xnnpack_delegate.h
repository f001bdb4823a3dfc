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
  int threads = 0;  // 0: one per online core; 1: no thread pool at all
  // Let XNNPACK run suitable runs in its sparse (NCHW) mode.
  bool sparse_inference = false;
  // Cut a run into several XNNPACK runtimes when the weights they pack pass
  // this many bytes, so unpacked and packed copies of all weights never
  // coexist (0: never cut; see PackedSteps in delegate.h).
  size_t pack_chunk_bytes = size_t{24} << 20;
  // Ops per XNNPACK runtime (0: a whole run in one). With 1, every op gets
  // its own runtime (a PAD or clamp XNNPACK would fuse stays with its
  // neighbour): tensors between ops then live in osprey's arena, planned
  // across the whole model, instead of in one XNNPACK workspace per runtime,
  // and profiles show every op.
  int max_ops_per_runtime = 1;
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
