// The XNNPACK backend: contiguous runs of fp32 ops XNNPACK can express
// exactly become XNNPACK runtimes (weights packed once, when the model is
// loaded); the rest stays on the reference kernels. A runtime's boundary
// tensors live in osprey's arena and are handed to XNNPACK as external
// values (no copies); tensors inside a runtime are XNNPACK's own. Where
// Debian's XNNPACK is slow, osprey's own AVX-512 kernels take over: 1x1
// convolutions with mostly-zero weights (sparse_conv.h) and 3x3/5x5
// depthwise convolutions (depthwise_conv.h).
#pragma once

#include <cstddef>
#include <cstdint>
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
  // Give back the pages of constants nothing reads once XNNPACK has packed
  // them (and of constants only load-time folding read); their Tensor::data
  // becomes null.
  bool release_weights = true;
  // Cut a run into several XNNPACK runtimes when the weights they pack pass
  // this many bytes, so unpacked and packed copies of all weights never
  // coexist (0: never cut).
  size_t pack_chunk_bytes = size_t{24} << 20;
  // Ops per XNNPACK runtime (0: a whole run in one). With 1, every op gets
  // its own runtime (a PAD or clamp XNNPACK would fuse stays with its
  // neighbour): tensors between ops then live in osprey's arena, planned
  // across the whole model, instead of in one XNNPACK workspace per runtime,
  // and profiles show every op.
  int max_ops_per_runtime = 1;
  // 1x1 convolutions whose weights have at least this fraction of zeros run
  // on osprey's sparse kernel (sparse_conv.h) on CPUs with AVX-512 (0: never).
  double sparse_min_zeros = 0.5;
  // 3x3 and 5x5 depthwise convolutions (stride 1 or 2) run on osprey's own
  // AVX-512 kernel (depthwise_conv.h) where the CPU has AVX-512.
  bool own_depthwise = true;
};

class XnnpackDelegate final : public Delegate {
 public:
  explicit XnnpackDelegate(const XnnpackOptions& options = {});
  ~XnnpackDelegate() override;

  std::string name() const override { return "XNNPACK"; }
  std::vector<DelegatedRun> partition(Graph& graph, const std::vector<const Op*>& ops) override;

  int threads() const { return threads_; }

  // Why `op` stays on the reference kernels, or "" when XNNPACK takes it.
  static std::string unsupported_reason(const Graph& graph, const Op& op);

 private:
  std::shared_ptr<pthreadpool> pool_;  // null when single-threaded
  int threads_ = 1;
  bool sparse_ = false;
  bool release_weights_ = true;
  size_t pack_chunk_bytes_ = 0;
  int max_ops_per_runtime_ = 0;
  double sparse_min_zeros_ = 0;
  bool own_depthwise_ = true;
};

}  // namespace osprey
