// Partitioning: which runs of steps the XNNPACK backend claims, and where
// one XNNPACK runtime ends and the next begins.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace osprey::xnnpack {

struct RuntimeLimits {
  // Cut a runtime once the weights it packs pass this many bytes (0: never).
  size_t pack_chunk_bytes = 0;
  // Ops per runtime, except where XNNPACK fuses the next op (0: no limit).
  int max_ops_per_runtime = 0;
  // End a runtime after an op whose output passes this many bytes (except
  // where XNNPACK fuses the next op), so large tensors stay in osprey's
  // arena instead of a runtime's own workspace (0: no limit).
  size_t max_internal_bytes = 0;
};

// Steps [first, last] of the plan that become one XNNPACK runtime, and the
// tensors at its boundary.
struct RuntimeSpan {
  int first = 0, last = 0;
  std::vector<int> inputs;   // non-constant tensors read from before the span
  std::vector<int> outputs;  // tensors written in it and read after it, model outputs, or never read
};

// The runtimes to build: maximal runs of `supported` steps, cut by `limits`,
// without the spans no faster on XNNPACK (reshapes alone) or with nothing to
// hand back.
std::vector<RuntimeSpan> plan_runtimes(const Graph& graph, const std::vector<const Op*>& ops,
                                       const std::vector<bool>& supported, const std::vector<int>& last_read,
                                       const RuntimeLimits& limits);

// Outputs of the PADs in `span` that only the convolution right after them
// reads: the lowering folds them into the convolution's padding.
std::set<int> foldable_pads(const std::vector<const Op*>& ops, const RuntimeSpan& span,
                            const std::vector<int>& last_read);

// "XNNPACK(CONV_2D #12)", "XNNPACK(PAD #11 + CONV_2D #12)", "XNNPACK(40 ops)".
std::string run_name(const std::vector<const Op*>& ops, int first, int last);

}  // namespace osprey::xnnpack
