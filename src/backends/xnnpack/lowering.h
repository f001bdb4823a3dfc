// Lowering: what each TFLite op becomes in an XNNPACK subgraph. One function
// per op family both decides whether XNNPACK computes exactly what the op
// means and, given a builder, adds the op's nodes - so deciding and building
// never disagree.
#pragma once

#include <string>

#include "backends/xnnpack/subgraph_builder.h"
#include "graph/graph.h"

namespace osprey::xnnpack {

// Why `op` cannot run on XNNPACK, or "" when it can; with `builder`, also
// adds its nodes to the builder's subgraph (throws osprey::Error on failure).
std::string lower(const Graph& graph, const Op& op, SubgraphBuilder* builder);

}  // namespace osprey::xnnpack
