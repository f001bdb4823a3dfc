#include "backends/xnnpack/subgraph_builder.h"

#include <cstring>

#include "backends/xnnpack/status.h"

namespace osprey::xnnpack {

using backend_checks::has;
using backend_checks::in;
using backend_checks::tensor_at;

std::vector<size_t> dims_of(const Shape& shape) {
  std::vector<size_t> dims(shape.begin(), shape.end());
  if (dims.empty()) dims.push_back(1);  // scalars as [1]
  return dims;
}

bool SubgraphBuilder::fold_pad(int padded, const SpatialPad& pad) {
  if (!foldable_pads_.count(padded)) return false;
  folded_pads_[padded] = pad;
  return true;
}

std::pair<uint32_t, SpatialPad> SubgraphBuilder::conv_input(int t) {
  auto folded = folded_pads_.find(t);
  if (folded == folded_pads_.end()) return {value(t), SpatialPad{}};
  return {value(folded->second.source), folded->second};
}

uint32_t SubgraphBuilder::value(int t) {
  auto found = values_.find(t);
  if (found != values_.end()) return found->second;
  const Tensor& tensor = tensor_at(graph_, t);
  const std::vector<size_t> dims = dims_of(tensor.shape);
  uint32_t id = XNN_INVALID_VALUE_ID;
  if (tensor.is_constant) {
    // XNNPACK reads static operands of elementwise ops while running, up to
    // XNN_EXTRA_BYTES past their end: the runtime gets its own padded copy.
    // (Held as floats whatever the type: the vector is only storage.)
    std::vector<float> copy((tensor.num_bytes() + XNN_EXTRA_BYTES + sizeof(float) - 1) / sizeof(float));
    std::memcpy(copy.data(), tensor.data, tensor.num_bytes());
    owned_.push_back(std::move(copy));
    id = define_like(tensor, dims, owned_.back().data(), XNN_INVALID_VALUE_ID, 0);
  } else if (auto ext = externals_.find(t); ext != externals_.end()) {
    const uint32_t flags =
        external_outputs_.count(t) ? XNN_VALUE_FLAG_EXTERNAL_OUTPUT : XNN_VALUE_FLAG_EXTERNAL_INPUT;
    id = define_like(tensor, dims, nullptr, ext->second, flags);
  } else {
    id = define_like(tensor, dims, nullptr, XNN_INVALID_VALUE_ID, 0);
  }
  values_[t] = id;
  return id;
}

uint32_t SubgraphBuilder::weights(int t) {
  const Tensor& tensor = tensor_at(graph_, t);
  return static_value(tensor.data, dims_of(tensor.shape));
}

uint32_t SubgraphBuilder::owned_static(std::vector<float> data) {
  const size_t n = data.size();
  owned_.push_back(std::move(data));
  return static_value(owned_.back().data(), {n});
}

uint32_t SubgraphBuilder::quantized_static(xnn_datatype type, const void* data, std::vector<size_t> dims,
                                           int32_t zero_point, float scale) {
  uint32_t id = XNN_INVALID_VALUE_ID;
  check_xnn(xnn_define_quantized_tensor_value(sg_, type, zero_point, scale, dims.size(), dims.data(), data,
                                              XNN_INVALID_VALUE_ID, 0, &id),
            "quantized tensor definition");
  return id;
}

uint32_t SubgraphBuilder::channelwise_static(xnn_datatype type, const void* data, std::vector<size_t> dims,
                                             size_t channel_dim, std::vector<float> scales) {
  owned_.push_back(std::move(scales));
  uint32_t id = XNN_INVALID_VALUE_ID;
  check_xnn(
      xnn_define_channelwise_quantized_tensor_value(sg_, type, owned_.back().data(), dims.size(), channel_dim,
                                                    dims.data(), data, XNN_INVALID_VALUE_ID, 0, &id),
      "per-channel tensor definition");
  return id;
}

uint32_t SubgraphBuilder::optional_bias(const Op& op, size_t i) {
  if (!has(op, i)) return XNN_INVALID_VALUE_ID;
  const Tensor& bias = in(graph_, op, i);
  return static_value(bias.data, {static_cast<size_t>(bias.num_elements())});
}

uint32_t SubgraphBuilder::define_like(const Tensor& tensor, const std::vector<size_t>& dims, const void* data,
                                      uint32_t external_id, uint32_t flags) {
  if (tensor.type != DType::kInt8 && tensor.type != DType::kUInt8)
    return define(dims, data, external_id, flags);
  // The lowering (lowering_rules.h) only claims per-tensor int8/uint8 tensors.
  const auto type = tensor.type == DType::kInt8 ? xnn_datatype_qint8 : xnn_datatype_quint8;
  const int64_t zero_point = tensor.quant.zero_point.empty() ? 0 : tensor.quant.zero_point[0];
  uint32_t id = XNN_INVALID_VALUE_ID;
  check_xnn(
      xnn_define_quantized_tensor_value(sg_, type, static_cast<int32_t>(zero_point), tensor.quant.scale.at(0),
                                        dims.size(), dims.data(), data, external_id, flags, &id),
      "quantized tensor definition");
  return id;
}

uint32_t SubgraphBuilder::define(const std::vector<size_t>& dims, const void* data, uint32_t external_id,
                                 uint32_t flags) {
  uint32_t id = XNN_INVALID_VALUE_ID;
  check_xnn(xnn_define_tensor_value(sg_, xnn_datatype_fp32, dims.size(), dims.data(), data, external_id,
                                    flags, &id),
            "tensor definition");
  return id;
}

}  // namespace osprey::xnnpack
