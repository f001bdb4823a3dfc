#include "quant/equalize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "quant/graph_runner.h"
#include "quant/params.h"

namespace osprey::quant {
namespace {

// A copy of op's constant input `slot` for op alone.
void own_constant(Graph& g, Op& op, size_t slot) {
  Tensor copy = g.tensors[static_cast<size_t>(op.inputs[slot])];
  copy.name += "/op" + std::to_string(op.index);
  copy.data = nullptr;
  g.tensors.push_back(copy);
  Tensor& t = g.tensors.back();
  std::memcpy(g.allocate_constant(t), g.tensors[static_cast<size_t>(op.inputs[slot])].data, t.num_bytes());
  op.inputs[slot] = static_cast<int>(g.tensors.size()) - 1;
}

}  // namespace

int equalize_depthwise_pairs(Graph& g) {
  const std::vector<std::vector<int>> readers = consumers(g);
  const std::set<int> outputs(g.outputs.begin(), g.outputs.end());
  auto constant_float = [&](int t) {
    return t >= 0 && g.tensors[static_cast<size_t>(t)].is_constant &&
           g.tensors[static_cast<size_t>(t)].type == DType::kFloat32;
  };
  auto only_reader = [&](int t) { return readers[static_cast<size_t>(t)].size() == 1; };
  int pairs = 0;
  for (Op& dw : g.ops) {
    const auto* o = std::get_if<DepthwiseConv2DOptions>(&dw.options);
    if (dw.code != static_cast<int32_t>(OpCode::kDepthwiseConv2D) || !o || o->depth_multiplier != 1 ||
        (o->activation != Activation::kNone && o->activation != Activation::kRelu))
      continue;
    const int y = dw.outputs[0];
    if (outputs.count(y) || !only_reader(y)) continue;
    Op& conv = g.ops[static_cast<size_t>(readers[static_cast<size_t>(y)][0])];
    if (conv.code != static_cast<int32_t>(OpCode::kConv2D) || conv.inputs.size() < 2 || conv.inputs[0] != y)
      continue;
    const bool has_bias = dw.inputs.size() > 2 && dw.inputs[2] >= 0;
    if (!constant_float(dw.inputs[1]) || !constant_float(conv.inputs[1]) || !only_reader(dw.inputs[1]) ||
        !only_reader(conv.inputs[1]) || (has_bias && !constant_float(dw.inputs[2])))
      continue;
    const Tensor& w1 = g.tensors[static_cast<size_t>(dw.inputs[1])];
    const Tensor& w2 = g.tensors[static_cast<size_t>(conv.inputs[1])];
    if (w1.rank() != 4 || w2.rank() != 4 || w1.dim(3) != w2.dim(3)) continue;
    if (has_bias && !only_reader(dw.inputs[2])) own_constant(g, dw, 2);  // MediaPipe shares zero biases

    Tensor& a = g.tensors[static_cast<size_t>(dw.inputs[1])];
    Tensor& b = g.tensors[static_cast<size_t>(conv.inputs[1])];
    float* bias = has_bias ? g.tensors[static_cast<size_t>(dw.inputs[2])].data_as<float>() : nullptr;
    // Both weights have their channels on the last axis (axis 3).
    const std::vector<float> r1 = channel_max_abs(a.data_as<float>(), a.shape, 3);
    const std::vector<float> r2 = channel_max_abs(b.data_as<float>(), b.shape, 3);
    const int64_t channels = static_cast<int64_t>(r1.size());
    for (int64_t c = 0; c < channels; ++c) {
      if (!(r1[static_cast<size_t>(c)] > 0) || !(r2[static_cast<size_t>(c)] > 0)) continue;
      const float s = std::sqrt(r1[static_cast<size_t>(c)] / r2[static_cast<size_t>(c)]);
      for (int64_t i = c; i < a.num_elements(); i += channels) a.data_as<float>()[i] /= s;
      for (int64_t i = c; i < b.num_elements(); i += channels) b.data_as<float>()[i] *= s;
      if (bias) bias[c] /= s;
    }
    g.tensors[static_cast<size_t>(y)].name += "/equalized";
    ++pairs;
  }
  return pairs;
}

}  // namespace osprey::quant
