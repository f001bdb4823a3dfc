// Builds one XNNPACK subgraph: declares osprey tensors as XNNPACK values
// (boundary tensors external, constants static, the rest internal) as the
// lowering (lowering.h) adds nodes reading and writing them.
#pragma once

#include <xnnpack.h>

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "backends/op_checks.h"
#include "graph/graph.h"

namespace osprey::xnnpack {

using backend_checks::SpatialPad;

// A shape as XNNPACK dims (scalars as [1]).
std::vector<size_t> dims_of(const Shape& shape);

class SubgraphBuilder {
 public:
  SubgraphBuilder(const Graph& graph, xnn_subgraph_t subgraph, const std::map<int, uint32_t>& externals,
                  const std::set<int>& external_outputs, std::set<int> foldable_pads,
                  std::vector<std::vector<float>>& owned)
      : graph_(graph),
        sg_(subgraph),
        externals_(externals),
        external_outputs_(external_outputs),
        foldable_pads_(std::move(foldable_pads)),
        owned_(owned) {}

  xnn_subgraph_t subgraph() const { return sg_; }

  // A zero PAD of height and width whose only reader is the convolution after
  // it in this runtime becomes that convolution's padding: no node, no copy.
  bool fold_pad(int padded, const SpatialPad& pad);
  // The convolution input's value and the padding a folded PAD adds to it.
  std::pair<uint32_t, SpatialPad> conv_input(int t);

  // The value of tensor `t`, declared with the tensor's shape on first use:
  // external (a run boundary), static (a constant) or internal.
  uint32_t value(int t);
  // Filters and the like, which XNNPACK packs when the runtime is created.
  uint32_t weights(int t);
  // A static value over `data` (which outlives the runtime) with the given dims.
  uint32_t static_value(const void* data, std::vector<size_t> dims) {
    return define(dims, data, XNN_INVALID_VALUE_ID, 0);
  }
  // A static value over a copy the run keeps.
  uint32_t owned_static(std::vector<float> data);
  // A static int8/uint8/int32 value with per-tensor parameters over `data`
  // (which outlives the runtime's creation: XNNPACK packs it).
  uint32_t quantized_static(xnn_datatype type, const void* data, std::vector<size_t> dims, int32_t zero_point,
                            float scale);
  // A static per-channel value (qcint8 weights, qcint32 bias) along
  // `channel_dim`; the builder keeps the scales.
  uint32_t channelwise_static(xnn_datatype type, const void* data, std::vector<size_t> dims,
                              size_t channel_dim, std::vector<float> scales);
  uint32_t internal(std::vector<size_t> dims) { return define(dims, nullptr, XNN_INVALID_VALUE_ID, 0); }
  // The bias value, or XNN_INVALID_VALUE_ID when the op has none.
  uint32_t optional_bias(const Op& op, size_t i);

 private:
  uint32_t define(const std::vector<size_t>& dims, const void* data, uint32_t external_id, uint32_t flags);
  // A value of the tensor's own type: fp32, or qint8/quint8 with its parameters.
  uint32_t define_like(const Tensor& tensor, const std::vector<size_t>& dims, const void* data,
                       uint32_t external_id, uint32_t flags);

  const Graph& graph_;
  xnn_subgraph_t sg_;
  const std::map<int, uint32_t>& externals_;
  const std::set<int>& external_outputs_;
  std::set<int> foldable_pads_;
  std::map<int, SpatialPad> folded_pads_;
  std::vector<std::vector<float>>& owned_;
  std::map<int, uint32_t> values_;
};

}  // namespace osprey::xnnpack
