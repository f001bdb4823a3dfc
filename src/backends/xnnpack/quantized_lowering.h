// Lowering of int8/uint8 ops (TFLite's full-integer models) to XNNPACK's
// quantized subgraph operators (qint8, quint8, qcint8 per-channel weights,
// qint32/qcint32 bias). XNNPACK requantizes in float ("fp32": float(acc) *
// scale, rounded half to even), which is what LiteRT computes for these ops
// and what osprey's integer reference kernels compute with the default LiteRT
// arithmetic (kernels/ref/quantized/fixed_point.h). An op is claimed only
// where that holds bit for bit; the rest stays on the reference kernels.
#pragma once

#include <string>

#include "backends/xnnpack/subgraph_builder.h"
#include "graph/graph.h"

namespace osprey::xnnpack {

// Whether `op` reads or writes int8/uint8 tensors (the quantized lowering's business).
bool is_quantized_op(const Graph& graph, const Op& op);

// As lower() (lowering.h), for a quantized op.
std::string lower_quantized(const Graph& graph, const Op& op, SubgraphBuilder* builder);

}  // namespace osprey::xnnpack
