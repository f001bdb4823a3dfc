#include "onnx/fold.h"

#include <cmath>
#include <set>

#include "core/error.h"
#include "onnx/shapes.h"

namespace osprey::onnx {

namespace {

using ::onnx::TensorProto;

Constant from_attribute(Builder& b, const Node& node) {
  OSPREY_CHECK(node.attribute_size() == 1, "Constant needs exactly one value attribute");
  const auto& a = node.attribute(0);
  if (a.name() == "value") return read_tensor(a.t(), b.model_dir());
  if (a.name() == "value_float") return Constant::floats({}, {a.f()});
  if (a.name() == "value_floats")
    return Constant::floats({a.floats_size()}, {a.floats().begin(), a.floats().end()});
  if (a.name() == "value_int") return Constant::integers({}, {a.i()});
  if (a.name() == "value_ints")
    return Constant::integers({a.ints_size()}, {a.ints().begin(), a.ints().end()});
  fail("Constant attribute '{}' is not supported", a.name());
}

// Index of element `flat` of `out` within a broadcast input of shape `in`.
int64_t broadcast_index(int64_t flat, const Dims& out, const Dims& in) {
  int64_t index = 0, stride = 1;
  for (size_t k = 0; k < out.size(); ++k) {
    const size_t od = out.size() - 1 - k;
    const int64_t coord = flat % out[od];
    flat /= out[od];
    if (k < in.size()) {
      const int64_t dim = in[in.size() - 1 - k];
      if (dim != 1) index += coord * stride;
      stride *= dim;
    }
  }
  return index;
}

Constant arithmetic(const std::string& op, const Constant& a, const Constant& c) {
  const Dims out = broadcast_dims(a.dims, c.dims);
  const int64_t n = checked_count(out, "folded result");
  if (a.is_float || c.is_float) {
    std::vector<float> r;
    for (int64_t k = 0; k < n; ++k) {
      const float x = static_cast<float>(a.at(broadcast_index(k, out, a.dims)));
      const float y = static_cast<float>(c.at(broadcast_index(k, out, c.dims)));
      r.push_back(op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y);
    }
    return Constant::floats(out, std::move(r));
  }
  std::vector<int64_t> r;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t x = a.i[static_cast<size_t>(broadcast_index(k, out, a.dims))];
    const int64_t y = c.i[static_cast<size_t>(broadcast_index(k, out, c.dims))];
    OSPREY_CHECK(op != "Div" || y != 0, "integer division by zero");
    r.push_back(op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y);
  }
  return Constant::integers(out, std::move(r));
}

// Picks elements of `c` by flat source index.
Constant gather_flat(const Constant& c, Dims dims, const std::vector<int64_t>& sources) {
  Constant r;
  r.is_float = c.is_float;
  r.dims = std::move(dims);
  for (int64_t s : sources) {
    if (c.is_float)
      r.f.push_back(c.f[static_cast<size_t>(s)]);
    else
      r.i.push_back(c.i[static_cast<size_t>(s)]);
  }
  return r;
}

Dims strides_of(const Dims& dims) {
  Dims s(dims.size(), 1);
  for (size_t k = dims.size(); k-- > 1;) s[k - 1] = s[k] * dims[k];
  return s;
}

Constant slice(Builder& b, const Node& node, const Constant& c) {
  const SliceDims s = slice_dims(b, node);
  const int64_t n = checked_count(s.out, "folded slice");
  const Dims in_strides = strides_of(c.dims);
  std::vector<int64_t> sources;
  for (int64_t k = 0; k < n; ++k) {
    int64_t rest = k, src = 0;
    for (size_t d = s.out.size(); d-- > 0;) {
      const int64_t coord = rest % s.out[d];
      rest /= s.out[d];
      src += (s.begin[d] + coord * s.step[d]) * in_strides[d];
    }
    sources.push_back(src);
  }
  return gather_flat(c, s.out, sources);
}

Constant gather(const Node& node, const Constant& data, const Constant& indices) {
  const int rank = static_cast<int>(data.dims.size());
  OSPREY_CHECK(rank > 0, "Gather on a scalar");
  const int axis = normalize_axis(attr_int(node, "axis", 0), rank);
  const int64_t dim = data.dims[static_cast<size_t>(axis)];
  Dims out(data.dims.begin(), data.dims.begin() + axis);
  out.insert(out.end(), indices.dims.begin(), indices.dims.end());
  out.insert(out.end(), data.dims.begin() + axis + 1, data.dims.end());
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < rank; ++d) {
    if (d < axis) outer *= data.dims[static_cast<size_t>(d)];
    if (d > axis) inner *= data.dims[static_cast<size_t>(d)];
  }
  std::vector<int64_t> sources;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t raw : indices.ints()) {
      const int64_t idx = raw < 0 ? raw + dim : raw;
      OSPREY_CHECK(idx >= 0 && idx < dim, "Gather index {} is out of range for dimension {}", raw, dim);
      for (int64_t in = 0; in < inner; ++in) sources.push_back((o * dim + idx) * inner + in);
    }
  }
  return gather_flat(data, out, sources);
}

Constant concat(Builder& b, const Node& node) {
  const Constant& first = b.constant(node.input(0));
  const int rank = static_cast<int>(first.dims.size());
  const int axis = normalize_axis(attr_int(node, "axis", 0), rank);
  Dims out = first.dims;
  out[static_cast<size_t>(axis)] = 0;
  bool is_float = false;
  for (const std::string& in : node.input()) {
    const Constant& c = b.constant(in);
    OSPREY_CHECK(static_cast<int>(c.dims.size()) == rank, "Concat inputs differ in rank");
    out[static_cast<size_t>(axis)] += c.dims[static_cast<size_t>(axis)];
    is_float |= c.is_float;
  }
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= out[static_cast<size_t>(d)];
  Constant r;
  r.is_float = is_float;
  r.dims = out;
  for (int64_t o = 0; o < outer; ++o) {
    for (const std::string& in : node.input()) {
      const Constant& c = b.constant(in);
      const int64_t chunk = c.size() / std::max<int64_t>(outer, 1);
      for (int64_t k = o * chunk; k < (o + 1) * chunk; ++k) {
        if (is_float)
          r.f.push_back(static_cast<float>(c.at(k)));
        else
          r.i.push_back(c.i[static_cast<size_t>(k)]);
      }
    }
  }
  return r;
}

Constant cast(const Node& node, const Constant& c) {
  const int64_t to = attr_int(node, "to", 0);
  const bool to_float = to == TensorProto::FLOAT || to == TensorProto::DOUBLE || to == TensorProto::FLOAT16;
  if (to_float) {
    std::vector<float> f;
    for (int64_t k = 0; k < c.size(); ++k) f.push_back(static_cast<float>(c.at(k)));
    return Constant::floats(c.dims, std::move(f));
  }
  std::vector<int64_t> i;
  for (int64_t k = 0; k < c.size(); ++k) {
    const double v = c.at(k);
    OSPREY_CHECK(std::isfinite(v) && std::fabs(v) < 9e18, "Cast of {} to an integer", v);
    i.push_back(static_cast<int64_t>(v));
  }
  return Constant::integers(c.dims, std::move(i));
}

Constant with_dims(Constant c, Dims dims) {
  c.dims = std::move(dims);
  return c;
}

bool all_inputs_constant(Builder& b, const Node& node) {
  for (const std::string& in : node.input()) {
    if (!in.empty() && !b.is_constant(in)) return false;
  }
  return true;
}

}  // namespace

const std::set<std::string>& fold_only_ops() {
  static const std::set<std::string> ops = {"Constant", "Shape", "Size", "ConstantOfShape", "Range"};
  return ops;
}

bool is_fold_only(const std::string& op_type) {
  return fold_only_ops().count(op_type) > 0;
}

bool try_fold(Builder& b, const Node& node) {
  const std::string& op = node.op_type();
  if (op == "Constant") {
    b.set_constant(node.output(0), from_attribute(b, node));
    return true;
  }
  if (op == "Shape") {
    const Dims& d = b.dims(node.input(0));
    int64_t rank = static_cast<int64_t>(d.size());
    int64_t start = attr_int(node, "start", 0), end = attr_int(node, "end", rank);
    start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
    end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
    std::vector<int64_t> v(d.begin() + start, d.begin() + std::max(start, end));
    b.set_constant(node.output(0), Constant::integers({static_cast<int64_t>(v.size())}, v));
    return true;
  }
  if (op == "Size") {
    int64_t n = 1;
    for (int64_t d : b.dims(node.input(0))) n *= d;
    b.set_constant(node.output(0), Constant::integers({}, {n}));
    return true;
  }
  if (!all_inputs_constant(b, node) || node.input_size() == 0) return false;
  const Constant& x = b.constant(node.input(0));
  Constant r;
  if (op == "Identity") {
    r = x;
  } else if (op == "Cast") {
    r = cast(node, x);
  } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    r = arithmetic(op, x, b.constant(node.input(1)));
  } else if (op == "Gather") {
    r = gather(node, x, b.constant(node.input(1)));
  } else if (op == "Concat") {
    r = concat(b, node);
  } else if (op == "Slice") {
    r = slice(b, node, x);
  } else if (op == "Reshape") {
    r = with_dims(
        x, reshape_dims(x.dims, b.constant(node.input(1)).ints(), attr_int(node, "allowzero", 0) != 0));
  } else if (op == "Flatten") {
    r = with_dims(x, flatten_dims(x.dims, attr_int(node, "axis", 1)));
  } else if (op == "Squeeze") {
    r = with_dims(x, squeeze_dims(x.dims, squeeze_axes(b, node)));
  } else if (op == "Unsqueeze") {
    r = with_dims(x, unsqueeze_dims(x.dims, squeeze_axes(b, node)));
  } else if (op == "ConstantOfShape") {
    const std::vector<int64_t> dims = x.ints();
    const int64_t n = checked_count(dims, "ConstantOfShape output");
    const auto* value = find_attribute(node, "value");
    const Constant fill = value ? read_tensor(value->t(), b.model_dir()) : Constant::floats({1}, {0.0f});
    OSPREY_CHECK(fill.size() == 1, "ConstantOfShape value must have one element");
    r = fill.is_float ? Constant::floats(dims, std::vector<float>(static_cast<size_t>(n), fill.f[0]))
                      : Constant::integers(dims, std::vector<int64_t>(static_cast<size_t>(n), fill.i[0]));
  } else if (op == "Range") {
    const double start = x.at(0), limit = b.constant(node.input(1)).at(0),
                 delta = b.constant(node.input(2)).at(0);
    OSPREY_CHECK(delta != 0, "Range delta is 0");
    const double count = std::max(std::ceil((limit - start) / delta), 0.0);
    checked_count({static_cast<int64_t>(std::min(count, 1e12))}, "Range output");
    r = x.is_float ? Constant::floats({static_cast<int64_t>(count)}, {})
                   : Constant::integers({static_cast<int64_t>(count)}, {});
    for (int64_t k = 0; k < static_cast<int64_t>(count); ++k) {
      if (x.is_float)
        r.f.push_back(static_cast<float>(start + static_cast<double>(k) * delta));
      else
        r.i.push_back(static_cast<int64_t>(start) + k * static_cast<int64_t>(delta));
    }
  } else {
    return false;
  }
  OSPREY_CHECK(r.size() == checked_count(r.dims, "folded value"), "folded value has a wrong element count");
  b.set_constant(node.output(0), std::move(r));
  return true;
}

}  // namespace osprey::onnx
