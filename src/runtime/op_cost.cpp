#include "runtime/op_cost.h"

namespace osprey {

namespace {
const Tensor& tensor(const Graph& g, int index) {
  return g.tensors[static_cast<size_t>(index)];
}
bool has(const Op& op, size_t i) {
  return i < op.inputs.size() && op.inputs[i] >= 0;
}
}  // namespace

int64_t op_macs(const Graph& g, const Op& op) {
  if (op.outputs.empty()) return 0;
  const Tensor& out = tensor(g, op.outputs[0]);
  switch (static_cast<OpCode>(op.code)) {
    case OpCode::kConv2D: {
      if (!has(op, 1)) return 0;
      const Tensor& w = tensor(g, op.inputs[1]);  // [Cout, KH, KW, Cin/groups]
      if (w.rank() != 4) return 0;
      return out.num_elements() * w.dim(1) * w.dim(2) * w.dim(3);
    }
    case OpCode::kDepthwiseConv2D: {
      if (!has(op, 1)) return 0;
      const Tensor& w = tensor(g, op.inputs[1]);  // [1, KH, KW, C]
      if (w.rank() != 4) return 0;
      return out.num_elements() * w.dim(1) * w.dim(2);
    }
    case OpCode::kFullyConnected: {
      if (!has(op, 1)) return 0;
      const Tensor& w = tensor(g, op.inputs[1]);  // [N, K]
      if (w.rank() != 2) return 0;
      return out.num_elements() * w.dim(1);
    }
    case OpCode::kTransposeConv: {
      if (!has(op, 2)) return 0;
      const Tensor& w = tensor(g, op.inputs[1]);  // [Cout, KH, KW, Cin]
      const Tensor& in = tensor(g, op.inputs[2]);
      if (w.rank() != 4) return 0;
      return in.num_elements() * w.dim(0) * w.dim(1) * w.dim(2);
    }
    case OpCode::kCustom:
      if (op.custom_code == "Convolution2DTransposeBias" && has(op, 1)) {
        const Tensor& in = tensor(g, op.inputs[0]);
        const Tensor& w = tensor(g, op.inputs[1]);
        if (w.rank() != 4) return 0;
        return in.num_elements() * w.dim(0) * w.dim(1) * w.dim(2);
      }
      return 0;
    case OpCode::kAveragePool2D:
    case OpCode::kMaxPool2D:
    case OpCode::kMean: return has(op, 0) ? tensor(g, op.inputs[0]).num_elements() : 0;
    case OpCode::kReshape:
    case OpCode::kSqueeze:
    case OpCode::kExpandDims:
    case OpCode::kConcatenation:
    case OpCode::kSplit:
    case OpCode::kStridedSlice:
    case OpCode::kPad:
    case OpCode::kTranspose:
    case OpCode::kDepthToSpace:
    case OpCode::kGather: return 0;
    default: return out.num_elements();
  }
}

}  // namespace osprey
