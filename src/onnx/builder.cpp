#include "onnx/builder.h"

#include <cstring>

#include "core/error.h"
#include "core/limits.h"

namespace osprey::onnx {

Value& Builder::value(const std::string& name) {
  auto it = values_.find(name);
  OSPREY_CHECK(it != values_.end(), "value '{}' is used before it is defined", name);
  return it->second;
}

const Constant& Builder::constant(const std::string& name) {
  Value& v = value(name);
  OSPREY_CHECK(v.constant.has_value(), "'{}' must be a constant (osprey needs static shapes and parameters)",
               name);
  return *v.constant;
}

std::string Builder::input(const Node& node, int i) {
  return i < node.input_size() ? node.input(i) : std::string();
}

void Builder::set_constant(const std::string& name, Constant c) {
  checked_count(c.dims, fmt::format("'{}'", name));
  Value v;
  v.dims = c.dims;
  v.constant = std::move(c);
  values_[name] = std::move(v);
}

void Builder::set_tensor(const std::string& name, Dims dims, int tensor, bool nhwc) {
  Value v;
  v.dims = std::move(dims);
  v.tensor = tensor;
  v.nhwc = nhwc;
  values_[name] = std::move(v);
}

int Builder::add_tensor(const std::string& name, const Dims& dims, DType type) {
  checked_count(dims, fmt::format("'{}'", name));
  Tensor t;
  t.name = name;
  t.type = type;
  t.shape = to_shape(dims);
  graph_.tensors.push_back(std::move(t));
  return static_cast<int>(graph_.tensors.size()) - 1;
}

int Builder::float_tensor(const std::string& name, const Dims& dims, const std::vector<float>& data) {
  const int index = add_tensor(name, dims);
  Tensor& t = graph_.tensors[static_cast<size_t>(index)];
  OSPREY_CHECK(static_cast<size_t>(t.num_elements()) == data.size(), "'{}': {} values for shape {}", name,
               data.size(), shape_str(t.shape));
  t.is_constant = true;
  // An empty vector's data() may be null, which memcpy must not be given.
  void* constant = graph_.allocate_constant(t);
  if (!data.empty()) std::memcpy(constant, data.data(), data.size() * sizeof(float));
  return index;
}

int Builder::int32_tensor(const std::string& name, const std::vector<int32_t>& data,
                          std::optional<Dims> dims) {
  const int index = add_tensor(name, dims.value_or(Dims{static_cast<int64_t>(data.size())}), DType::kInt32);
  Tensor& t = graph_.tensors[static_cast<size_t>(index)];
  OSPREY_CHECK(static_cast<size_t>(t.num_elements()) == data.size(), "'{}': {} values for shape {}", name,
               data.size(), shape_str(t.shape));
  t.is_constant = true;
  void* constant = graph_.allocate_constant(t);
  if (!data.empty()) std::memcpy(constant, data.data(), data.size() * sizeof(int32_t));
  return index;
}

int Builder::add_op(OpCode code, std::vector<int> inputs, std::vector<int> outputs, OpOptions options) {
  Op op;
  op.index = static_cast<int>(graph_.ops.size());
  op.code = static_cast<int32_t>(code);
  op.inputs = std::move(inputs);
  op.outputs = std::move(outputs);
  op.options = std::move(options);
  graph_.ops.push_back(std::move(op));
  return static_cast<int>(graph_.ops.size()) - 1;
}

int Builder::new_output(const Node& node, int i, const Dims& tensor_dims) {
  return add_tensor(node.output(i), tensor_dims);
}

int Builder::transpose(int tensor, const std::vector<int32_t>& perm, const std::string& name) {
  const Dims in = [&] {
    Dims d;
    for (int32_t x : graph_.tensors[static_cast<size_t>(tensor)].shape) d.push_back(x);
    return d;
  }();
  const int perm_tensor = int32_tensor(name + "/perm", perm);
  const int out = add_tensor(name, permute(in, perm));
  add_op(OpCode::kTranspose, {tensor, perm_tensor}, {out});
  return out;
}

int Builder::reshape(int tensor, const Dims& dims, const std::string& name) {
  std::vector<int32_t> shape;
  for (int64_t d : dims) shape.push_back(static_cast<int32_t>(d));
  const int shape_tensor = int32_tensor(name + "/shape", shape);
  const int out = add_tensor(name, dims);
  ReshapeOptions o;
  o.has_new_shape = true;
  o.new_shape = shape;
  add_op(OpCode::kReshape, {tensor, shape_tensor}, {out}, o);
  return out;
}

namespace {

// Constant data in NHWC order: values aligned to rank 4 (leading ones), then permuted.
std::vector<float> permute_data(const std::vector<float>& data, const Dims& dims4,
                                const std::vector<int32_t>& perm) {
  Dims strides(4, 1);
  for (int d = 2; d >= 0; --d)
    strides[static_cast<size_t>(d)] = strides[static_cast<size_t>(d) + 1] * dims4[static_cast<size_t>(d) + 1];
  const Dims out = permute(dims4, perm);
  std::vector<float> result;
  result.reserve(data.size());
  for (int64_t a = 0; a < out[0]; ++a)
    for (int64_t b = 0; b < out[1]; ++b)
      for (int64_t c = 0; c < out[2]; ++c)
        for (int64_t d = 0; d < out[3]; ++d) {
          const int64_t idx[4] = {a, b, c, d};
          int64_t flat = 0;
          for (int k = 0; k < 4; ++k)
            flat += idx[k] * strides[static_cast<size_t>(perm[static_cast<size_t>(k)])];
          result.push_back(data[static_cast<size_t>(flat)]);
        }
  return result;
}

}  // namespace

int Builder::onnx_tensor(const std::string& name) {
  Value& v = value(name);
  if (v.constant) {
    if (v.tensor < 0) {
      OSPREY_CHECK(v.constant->is_float, "'{}': integer constants are only supported as parameters", name);
      v.tensor = float_tensor(name, v.dims, v.constant->f);
      v.nhwc = false;
    }
    if (!v.nhwc) return v.tensor;
  }
  if (!v.nhwc) return v.tensor;
  if (v.other < 0) v.other = transpose(v.tensor, kToNchw, name + "/nchw");
  return v.other;
}

int Builder::nhwc_tensor(const std::string& name) {
  Value& v = value(name);
  OSPREY_CHECK(v.dims.size() == 4, "'{}' has rank {}, expected a 4-D (NCHW) tensor", name, v.dims.size());
  if (v.constant) return nhwc_constant(name);
  if (v.nhwc) return v.tensor;
  if (v.other < 0) v.other = transpose(v.tensor, kToNhwc, name + "/nhwc");
  return v.other;
}

int Builder::nhwc_constant(const std::string& name) {
  Value& v = value(name);
  const Constant& c = constant(name);
  OSPREY_CHECK(c.is_float, "'{}': integer constants are only supported as parameters", name);
  OSPREY_CHECK(c.dims.size() <= 4, "'{}' has rank {}, cannot broadcast against a 4-D tensor", name,
               c.dims.size());
  if (v.other >= 0) return v.other;
  Dims dims4 = c.dims;
  dims4.insert(dims4.begin(), 4 - dims4.size(), 1);
  v.other = float_tensor(name + "/nhwc", permute(dims4, kToNhwc), permute_data(c.f, dims4, kToNhwc));
  return v.other;
}

void Builder::count_consumers(const ::onnx::GraphProto& g) {
  for (const Node& n : g.node()) {
    for (const std::string& in : n.input()) {
      if (!in.empty()) consumers_[in].push_back(&n);
    }
  }
  for (const auto& out : g.output()) graph_outputs_.insert(out.name());
}

const Node* Builder::sole_consumer(const std::string& name) const {
  if (graph_outputs_.count(name)) return nullptr;
  auto it = consumers_.find(name);
  if (it == consumers_.end() || it->second.size() != 1) return nullptr;
  return it->second[0];
}

const ::onnx::AttributeProto* find_attribute(const Node& node, const std::string& name) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

int64_t attr_int(const Node& node, const std::string& name, int64_t fallback) {
  const auto* a = find_attribute(node, name);
  return a ? a->i() : fallback;
}

float attr_float(const Node& node, const std::string& name, float fallback) {
  const auto* a = find_attribute(node, name);
  return a ? a->f() : fallback;
}

std::string attr_string(const Node& node, const std::string& name, const std::string& fallback) {
  const auto* a = find_attribute(node, name);
  return a ? a->s() : fallback;
}

std::vector<int64_t> attr_ints(const Node& node, const std::string& name, std::vector<int64_t> fallback) {
  const auto* a = find_attribute(node, name);
  if (!a) return fallback;
  OSPREY_CHECK(a->ints_size() <= limits::kMaxRank * 2, "attribute {} has {} values, too many", name,
               a->ints_size());
  return {a->ints().begin(), a->ints().end()};
}

int normalize_axis(int64_t axis, int rank) {
  OSPREY_CHECK(axis >= -rank && axis < rank, "axis {} is out of range for rank {}", axis, rank);
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

Shape to_shape(const Dims& dims) {
  Shape s;
  for (int64_t d : dims) s.push_back(static_cast<int32_t>(d));
  return s;
}

Dims permute(const Dims& dims, const std::vector<int32_t>& perm) {
  Dims out;
  for (int32_t p : perm) out.push_back(dims[static_cast<size_t>(p)]);
  return out;
}

}  // namespace osprey::onnx
