// The state of one ONNX → osprey conversion: ONNX values by name, the osprey
// Graph being built, and the layout rule.
//
// Layout rule: a 4-D activation may live in NHWC (its ONNX shape is NCHW).
// Ops that need NHWC (Conv, pools, Resize) ask for it; layout-agnostic ops
// (elementwise, Concat, Slice, Softmax over channels, reductions) keep the
// layout of their inputs with their axes rewritten; everything else asks for
// the ONNX layout. A transposed copy is made at most once per value.
#pragma once

#include <onnx/onnx_pb.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "onnx/constant.h"

namespace osprey::onnx {

using Dims = std::vector<int64_t>;
using Node = ::onnx::NodeProto;

// NHWC position of each NCHW axis, and the permutations between the two.
inline constexpr std::array<int, 4> kNhwcAxis = {0, 3, 1, 2};
inline const std::vector<int32_t> kToNhwc = {0, 2, 3, 1};
inline const std::vector<int32_t> kToNchw = {0, 3, 1, 2};

struct Value {
  Dims dims;                         // ONNX shape
  std::optional<Constant> constant;  // known at import time
  int tensor = -1;                   // osprey tensor: NHWC when `nhwc`, else ONNX layout
  bool nhwc = false;
  int other = -1;  // the same value in the other layout, once made
};

class Builder {
 public:
  Builder(int64_t opset, std::string model_dir) : opset_(opset), model_dir_(std::move(model_dir)) {}

  Graph& graph() { return graph_; }
  Graph take_graph() { return std::move(graph_); }
  int64_t opset() const { return opset_; }
  const std::string& model_dir() const { return model_dir_; }

  // --- values ---
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  Value& value(const std::string& name);
  const Dims& dims(const std::string& name) { return value(name).dims; }
  int rank(const std::string& name) { return static_cast<int>(value(name).dims.size()); }
  bool is_constant(const std::string& name) { return value(name).constant.has_value(); }
  const Constant& constant(const std::string& name);
  // Input i of the node, or "" when absent / the empty name.
  static std::string input(const Node& node, int i);
  void set_constant(const std::string& name, Constant c);
  void set_tensor(const std::string& name, Dims dims, int tensor, bool nhwc);
  // Aliases `to` to the value `from` (Identity, Dropout, no-op Cast).
  void alias(const std::string& to, const std::string& from) { values_[to] = value(from); }

  // --- tensors in a layout ---
  // The value as a tensor in ONNX layout (constants become constant tensors).
  int onnx_tensor(const std::string& name);
  // The 4-D value as an NHWC tensor.
  int nhwc_tensor(const std::string& name);
  // In NHWC when `nhwc` (4-D only), else in ONNX layout.
  int tensor_in(const std::string& name, bool nhwc) { return nhwc ? nhwc_tensor(name) : onnx_tensor(name); }
  // A constant broadcast-aligned to rank 4 and permuted to NHWC (for elementwise ops on NHWC data).
  int nhwc_constant(const std::string& name);

  // --- graph building ---
  int add_tensor(const std::string& name, const Dims& dims, DType type = DType::kFloat32);
  int float_tensor(const std::string& name, const Dims& dims, const std::vector<float>& data);
  // An int32 constant, a vector unless `dims` is given.
  int int32_tensor(const std::string& name, const std::vector<int32_t>& data, std::optional<Dims> dims = {});
  // Adds an op; returns its index.
  int add_op(OpCode code, std::vector<int> inputs, std::vector<int> outputs, OpOptions options = {});
  // A new output tensor for `node`'s output i (ONNX dims given in the layout chosen).
  int new_output(const Node& node, int i, const Dims& tensor_dims);
  // TRANSPOSE of `tensor` by `perm`; returns the new tensor.
  int transpose(int tensor, const std::vector<int32_t>& perm, const std::string& name);
  int reshape(int tensor, const Dims& dims, const std::string& name);

  // --- node bookkeeping (fusions) ---
  void count_consumers(const ::onnx::GraphProto& g);
  // The only node reading `name`, or nullptr (several readers, or a graph output).
  const Node* sole_consumer(const std::string& name) const;
  void skip(const Node* node) { skipped_.insert(node); }
  bool skipped(const Node* node) const { return skipped_.count(node) > 0; }

 private:
  int64_t opset_;
  std::string model_dir_;
  Graph graph_;
  std::map<std::string, Value> values_;
  std::map<std::string, std::vector<const Node*>> consumers_;
  std::set<std::string> graph_outputs_;
  std::set<const Node*> skipped_;
};

// Attributes, with defaults.
const ::onnx::AttributeProto* find_attribute(const Node& node, const std::string& name);
int64_t attr_int(const Node& node, const std::string& name, int64_t fallback);
float attr_float(const Node& node, const std::string& name, float fallback);
std::string attr_string(const Node& node, const std::string& name, const std::string& fallback);
std::vector<int64_t> attr_ints(const Node& node, const std::string& name, std::vector<int64_t> fallback = {});

// `axis` in [-rank, rank) made non-negative; a one-line error otherwise.
int normalize_axis(int64_t axis, int rank);
Shape to_shape(const Dims& dims);
Dims permute(const Dims& dims, const std::vector<int32_t>& perm);

}  // namespace osprey::onnx
