#include "backends/xnnpack/xnnpack_delegate.h"

#include <xnnpack.h>

#include <map>
#include <set>

#include "backends/backend.h"
#include "backends/op_checks.h"
#include "backends/thread_pool.h"
#include "backends/xnnpack/lowering.h"
#include "backends/xnnpack/partition.h"
#include "backends/xnnpack/run_kernel.h"
#include "backends/xnnpack/status.h"
#include "core/error.h"

namespace osprey {

namespace {

using xnnpack::RuntimeSpan;

// The kernel of one runtime: the span's ops lowered into one subgraph.
std::unique_ptr<Kernel> build_runtime(const Graph& graph, const std::vector<const Op*>& ops,
                                      const RuntimeSpan& span, const std::vector<int>& last_read,
                                      std::shared_ptr<pthreadpool> pool) {
  // External ids: inputs first, then outputs.
  std::map<int, uint32_t> externals;
  const std::set<int> external_outputs(span.outputs.begin(), span.outputs.end());
  for (int t : span.inputs) externals.emplace(t, static_cast<uint32_t>(externals.size()));
  for (int t : span.outputs) externals.emplace(t, static_cast<uint32_t>(externals.size()));

  xnn_subgraph_t sg = nullptr;
  xnnpack::check_xnn(xnn_create_subgraph(static_cast<uint32_t>(externals.size()), 0, &sg),
                     "subgraph creation");
  std::unique_ptr<xnn_subgraph, xnn_status (*)(xnn_subgraph_t)> subgraph(sg, xnn_delete_subgraph);
  std::vector<std::vector<float>> owned;
  xnnpack::SubgraphBuilder builder(graph, sg, externals, external_outputs,
                                   xnnpack::foldable_pads(ops, span, last_read), owned);
  for (int s = span.first; s <= span.last; ++s) {
    const Op& op = *ops[static_cast<size_t>(s)];
    try {
      const std::string reason = xnnpack::lower(graph, op, &builder);
      if (!reason.empty()) fail("{}", reason);
    } catch (const Error& e) {
      fail("op #{} {}: {}", op.index, op.name(), e.what());
    }
  }
  return xnnpack::make_run_kernel(sg, std::move(pool), std::move(owned), span.inputs.size(),
                                  span.outputs.size());
}

}  // namespace

XnnpackDelegate::XnnpackDelegate(const XnnpackOptions& options, std::shared_ptr<pthreadpool> pool)
    : options_(options) {
  OSPREY_CHECK(options.threads >= 0, "--threads {} must not be negative", options.threads);
  xnnpack::initialize_xnnpack();
  pool_ = pool ? std::move(pool) : make_thread_pool(options.threads);
}

XnnpackDelegate::~XnnpackDelegate() = default;

std::string XnnpackDelegate::unsupported_reason(const Graph& graph, const Op& op) {
  return xnnpack::lower(graph, op, nullptr);
}

std::vector<DelegatedRun> XnnpackDelegate::partition(const Graph& graph, const std::vector<const Op*>& ops,
                                                     PackedSteps& packed) {
  std::vector<bool> supported(ops.size());
  for (size_t s = 0; s < ops.size(); ++s) {
    // Runs of earlier backends (index -1) are theirs.
    supported[s] = ops[s]->index >= 0 && xnnpack::lower(graph, *ops[s], nullptr).empty();
  }
  const std::vector<int> last_read = backend_checks::last_reads(graph, ops);
  const xnnpack::RuntimeLimits limits{options_.pack_chunk_bytes, options_.max_ops_per_runtime,
                                      options_.max_internal_bytes};
  std::vector<DelegatedRun> runs;
  for (RuntimeSpan& span : xnnpack::plan_runtimes(graph, ops, supported, last_read, limits)) {
    DelegatedRun run;
    run.first_step = span.first;
    run.last_step = span.last;
    run.kernel = build_runtime(graph, ops, span, last_read, pool_);
    run.name = xnnpack::run_name(ops, span.first, span.last);
    run.inputs = std::move(span.inputs);
    run.outputs = std::move(span.outputs);
    // The runtime has packed its weights: the unpacked ones can go before the next packs its own.
    packed.built(run.first_step, run.last_step);
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace osprey
