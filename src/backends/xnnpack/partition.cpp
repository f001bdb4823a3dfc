#include "backends/xnnpack/partition.h"

#include <fmt/format.h>

#include <algorithm>

namespace osprey::xnnpack {

namespace {

bool is_layout_only(const Op& op) {
  switch (static_cast<OpCode>(op.code)) {
    case OpCode::kReshape:
    case OpCode::kSqueeze:
    case OpCode::kExpandDims: return true;
    default: return false;
  }
}

// Inputs of a delegated op that XNNPACK copies into its packed weights when
// the runtime is created and never reads again.
bool packed_input(const Op& op, size_t i) {
  if (op.code == static_cast<int32_t>(OpCode::kCustom))
    return i == 1 || i == 2;  // Convolution2DTransposeBias
  switch (static_cast<OpCode>(op.code)) {
    case OpCode::kConv2D:
    case OpCode::kDepthwiseConv2D:
    case OpCode::kFullyConnected: return i == 1 || i == 2;
    case OpCode::kTransposeConv: return i == 1 || i == 3;
    case OpCode::kPrelu: return i == 1;
    default: return false;
  }
}

// Whether XNNPACK's subgraph optimiser folds `a` into `b` (or `b` into `a`)
// when both are in one runtime: a zero PAD of H/W into the convolution after
// it, a clamp into the op before it.
bool fused_by_xnnpack(const Op& a, const Op& b) {
  if (a.outputs.empty() || b.inputs.empty() || b.inputs[0] != a.outputs[0]) return false;
  if (a.code == static_cast<int32_t>(OpCode::kPad)) {
    return b.code == static_cast<int32_t>(OpCode::kConv2D) ||
           b.code == static_cast<int32_t>(OpCode::kDepthwiseConv2D);
  }
  switch (static_cast<OpCode>(b.code)) {
    case OpCode::kRelu:
    case OpCode::kRelu6:
    case OpCode::kReluN1To1: return true;
    default: return false;
  }
}

// Where the runtime starting at `first` ends: at the end of the run of
// supported steps; before max_ops_per_runtime ops or after an output over
// max_internal_bytes (except where XNNPACK fuses the next op into this
// one); once the weights it packs pass
// pack_chunk_bytes, so the unpacked copies can go before the next runtime
// packs its own.
int runtime_end(const Graph& graph, const std::vector<const Op*>& ops, const std::vector<bool>& supported,
                int first, const RuntimeLimits& limits) {
  const int n = static_cast<int>(ops.size());
  int last = first;
  size_t packed = 0;
  for (;; ++last) {
    const Op& op = *ops[static_cast<size_t>(last)];
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      if (op.inputs[i] >= 0 && packed_input(op, i)) {
        packed += graph.tensors[static_cast<size_t>(op.inputs[i])].num_bytes();
      }
    }
    if (last + 1 >= n || !supported[static_cast<size_t>(last + 1)]) break;
    if (limits.pack_chunk_bytes > 0 && packed >= limits.pack_chunk_bytes) break;
    const Op& next = *ops[static_cast<size_t>(last + 1)];
    if (limits.max_ops_per_runtime > 0 && last - first + 1 >= limits.max_ops_per_runtime &&
        !fused_by_xnnpack(op, next)) {
      break;
    }
    if (limits.max_internal_bytes > 0 && !fused_by_xnnpack(op, next) &&
        std::any_of(op.outputs.begin(), op.outputs.end(), [&](int t) {
          return graph.tensors[static_cast<size_t>(t)].num_bytes() > limits.max_internal_bytes;
        })) {
      break;
    }
  }
  return last;
}

}  // namespace

std::vector<RuntimeSpan> plan_runtimes(const Graph& graph, const std::vector<const Op*>& ops,
                                       const std::vector<bool>& supported, const std::vector<int>& last_read,
                                       const RuntimeLimits& limits) {
  const int n = static_cast<int>(ops.size());
  std::vector<RuntimeSpan> spans;
  for (int first = 0; first < n;) {
    if (!supported[static_cast<size_t>(first)]) {
      ++first;
      continue;
    }
    RuntimeSpan span;
    span.first = first;
    span.last = runtime_end(graph, ops, supported, first, limits);
    first = span.last + 1;
    // Boundary tensors: read from before the span, or read after it.
    std::set<int> produced, seen_inputs;
    bool computes = false;
    for (int s = span.first; s <= span.last; ++s) {
      const Op& op = *ops[static_cast<size_t>(s)];
      computes = computes || !is_layout_only(op);
      for (int t : op.inputs) {
        if (t < 0 || graph.tensors[static_cast<size_t>(t)].is_constant || produced.count(t)) continue;
        if (seen_inputs.insert(t).second) span.inputs.push_back(t);
      }
      for (int t : op.outputs) {
        produced.insert(t);
        // A result no later op reads is handed back too: XNNPACK clears the
        // shape of an internal value without consumers, and its producer's
        // operator then fails an assertion when the runtime is made.
        const int read = last_read[static_cast<size_t>(t)];
        if (read > span.last || read <= s) span.outputs.push_back(t);
      }
    }
    // A span of reshapes alone is no faster on XNNPACK; one whose results
    // nobody reads has nothing to hand back.
    if (computes && !span.outputs.empty()) spans.push_back(std::move(span));
  }
  return spans;
}

std::set<int> foldable_pads(const std::vector<const Op*>& ops, const RuntimeSpan& span,
                            const std::vector<int>& last_read) {
  std::set<int> pads;
  for (int s = span.first; s < span.last; ++s) {
    const Op& op = *ops[static_cast<size_t>(s)];
    const Op& next = *ops[static_cast<size_t>(s + 1)];
    if (op.code != static_cast<int32_t>(OpCode::kPad) || op.outputs.size() != 1) continue;
    const int t = op.outputs[0];
    if ((next.code == static_cast<int32_t>(OpCode::kConv2D) ||
         next.code == static_cast<int32_t>(OpCode::kDepthwiseConv2D)) &&
        !next.inputs.empty() && next.inputs[0] == t && last_read[static_cast<size_t>(t)] == s + 1 &&
        std::count(next.inputs.begin(), next.inputs.end(), t) == 1) {
      pads.insert(t);
    }
  }
  return pads;
}

std::string run_name(const std::vector<const Op*>& ops, int first, int last) {
  if (last - first + 1 > 2) return fmt::format("XNNPACK({} ops)", last - first + 1);
  std::string name = "XNNPACK(";
  for (int s = first; s <= last; ++s) {
    const Op& op = *ops[static_cast<size_t>(s)];
    name += fmt::format("{}{} #{}", s > first ? " + " : "", op.name(), op.index);
  }
  return name + ")";
}

}  // namespace osprey::xnnpack
