// Multiply-accumulate counts of ops, for `inspect` and the profiler.
#pragma once

#include <cstdint>

#include "graph/graph.h"

namespace osprey {

// MACs of one run of `op` (element count for elementwise ops, 0 for moves).
int64_t op_macs(const Graph& graph, const Op& op);

}  // namespace osprey
