// Elementwise arithmetic and activations, Softmax, reductions, MatMul and
// Gemm. Elementwise ops keep NHWC when their 4-D inputs have it (constants
// are permuted to match); ONNX-only forms map onto standard builtins
// (HardSigmoid → MUL + ADD/RELU6 + MUL, Div by a constant → MUL, Pow 2 → MUL).
#include <cmath>
#include <limits>
#include <optional>

#include "core/error.h"
#include "onnx/convert.h"
#include "onnx/shapes.h"

namespace osprey::onnx {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// One elementwise op over `inputs` (value names) with broadcasting, written to `output`.
void elementwise(Builder& b, OpCode code, const std::vector<std::string>& inputs, const std::string& output,
                 OpOptions options = ElementwiseOptions{}) {
  Dims out = b.dims(inputs[0]);
  for (size_t i = 1; i < inputs.size(); ++i) out = broadcast_dims(out, b.dims(inputs[i]));
  bool any_nhwc = false, all_fit = out.size() == 4;
  for (const std::string& in : inputs) {
    const Value& v = b.value(in);
    if (v.constant) {
      all_fit &= v.dims.size() <= 4;
    } else {
      any_nhwc |= v.nhwc;
      all_fit &= v.dims.size() == 4;
    }
  }
  const bool nhwc = any_nhwc && all_fit;
  std::vector<int> tensors;
  for (const std::string& in : inputs) {
    tensors.push_back(nhwc && b.is_constant(in) ? b.nhwc_constant(in) : b.tensor_in(in, nhwc));
  }
  const int t = b.add_tensor(output, nhwc ? permute(out, kToNhwc) : out);
  b.add_op(code, tensors, {t}, std::move(options));
  b.set_tensor(output, out, t, nhwc);
}

// A unary op that keeps its input's layout.
void unary(Builder& b, OpCode code, const std::string& input, const std::string& output,
           OpOptions options = {}) {
  const Value v = b.value(input);
  const bool nhwc = v.nhwc && !v.constant;
  const int in = b.tensor_in(input, nhwc);
  const int t = b.add_tensor(output, nhwc ? permute(v.dims, kToNhwc) : v.dims);
  b.add_op(code, {in}, {t}, std::move(options));
  b.set_tensor(output, v.dims, t, nhwc);
}

template <OpCode kCode>
void convert_unary(Builder& b, const Node& node) {
  unary(b, kCode, node.input(0), node.output(0));
}

// The scalar value of constant `name`, if it is one.
std::optional<float> scalar(Builder& b, const std::string& name) {
  if (name.empty() || !b.has(name) || !b.is_constant(name)) return std::nullopt;
  const Constant& c = b.constant(name);
  if (c.size() != 1) return std::nullopt;
  return static_cast<float>(c.at(0));
}

// x * Clip(x + 3, 0, 6) / 6 (how Paddle exports hardswish) is HARD_SWISH(x): true when
// `add` starts that chain; the chain's other nodes are skipped.
bool convert_hard_swish_chain(Builder& b, const Node& add) {
  if (add.input_size() != 2 || scalar(b, add.input(1)) != 3.0f) return false;
  const std::string x = add.input(0);
  const Node* clip = b.sole_consumer(add.output(0));
  if (!clip || clip->op_type() != "Clip" || clip->input(0) != add.output(0)) return false;
  for (int i = 1; i < clip->input_size(); ++i) {
    if (!clip->input(i).empty() && !(b.has(clip->input(i)) && b.is_constant(clip->input(i)))) return false;
  }
  if (clip_bounds(b, *clip) != std::pair<float, float>{0.0f, 6.0f}) return false;
  const Node* mul = b.sole_consumer(clip->output(0));
  if (!mul || mul->op_type() != "Mul" || mul->input_size() != 2 ||
      !((mul->input(0) == x && mul->input(1) == clip->output(0)) ||
        (mul->input(1) == x && mul->input(0) == clip->output(0)))) {
    return false;
  }
  const Node* div = b.sole_consumer(mul->output(0));
  if (!div || div->input_size() != 2 || div->input(0) != mul->output(0)) return false;
  const std::optional<float> d = scalar(b, div->input(1));
  if (!((div->op_type() == "Div" && d == 6.0f) ||
        (div->op_type() == "Mul" && d && std::fabs(*d - 1.0f / 6) < 1e-7f))) {
    return false;
  }
  for (const Node* n : {clip, mul, div}) b.skip(n);
  unary(b, OpCode::kHardSwish, x, div->output(0));
  return true;
}

template <OpCode kCode>
void convert_binary(Builder& b, const Node& node) {
  if (kCode == OpCode::kAdd && convert_hard_swish_chain(b, node)) return;
  OSPREY_CHECK(node.input_size() == 2, "expected 2 inputs, got {}", node.input_size());
  std::string output = node.output(0);
  const Activation act = fuse_activation(b, output);
  elementwise(b, kCode, {node.input(0), node.input(1)}, output, ElementwiseOptions{act});
}

void convert_div(Builder& b, const Node& node) {
  const std::string divisor = node.input(1);
  if (!b.is_constant(divisor)) return convert_binary<OpCode::kDiv>(b, node);
  // Division by a constant is a multiplication by its reciprocal (DIV has no int8 or DLPU form).
  Constant r = b.constant(divisor);
  OSPREY_CHECK(r.is_float, "Div by an integer constant on float data");
  for (float& v : r.f) v = 1.0f / v;
  const std::string name = node.output(0) + "/reciprocal";
  b.set_constant(name, std::move(r));
  std::string output = node.output(0);
  const Activation act = fuse_activation(b, output);
  elementwise(b, OpCode::kMul, {node.input(0), name}, output, ElementwiseOptions{act});
}

void convert_max_min(Builder& b, const Node& node, OpCode code) {
  OSPREY_CHECK(node.input_size() == 2, "only 2 inputs are supported, got {}", node.input_size());
  elementwise(b, code, {node.input(0), node.input(1)}, node.output(0), std::monostate{});
}

void convert_pow(Builder& b, const Node& node) {
  const Constant& e = b.constant(node.input(1));
  OSPREY_CHECK(e.size() == 1, "only a scalar exponent is supported");
  const double p = e.at(0);
  if (p == 2.0) return elementwise(b, OpCode::kMul, {node.input(0), node.input(0)}, node.output(0));
  if (p == 0.5) return unary(b, OpCode::kSqrt, node.input(0), node.output(0));
  if (p == 1.0) return b.alias(node.output(0), node.input(0));
  fail("exponent {} is not supported (2, 0.5 and 1 are)", p);
}

void convert_clip(Builder& b, const Node& node) {
  const auto [lo, hi] = clip_bounds(b, node);
  const std::string x = node.input(0), out = node.output(0);
  if (lo == 0.0f && hi == 6.0f) return unary(b, OpCode::kRelu6, x, out);
  if (lo == -1.0f && hi == 1.0f) return unary(b, OpCode::kReluN1To1, x, out);
  if (lo == 0.0f && hi == kInf) return unary(b, OpCode::kRelu, x, out);
  std::string current = x;
  if (lo != -kInf) {
    const std::string bound = out + "/min", next = hi != kInf ? out + "/lower" : out;
    b.set_constant(bound, Constant::floats({}, {lo}));
    elementwise(b, OpCode::kMaximum, {current, bound}, next, std::monostate{});
    current = next;
  }
  if (hi != kInf) {
    const std::string bound = out + "/max";
    b.set_constant(bound, Constant::floats({}, {hi}));
    elementwise(b, OpCode::kMinimum, {current, bound}, out, std::monostate{});
    current = out;
  }
  if (current != out) b.alias(out, current);
}

void convert_hard_sigmoid(Builder& b, const Node& node) {
  const float alpha = attr_float(node, "alpha", 0.2f), beta = attr_float(node, "beta", 0.5f);
  const std::string x = node.input(0), out = node.output(0);
  // x * HardSigmoid(x) with alpha 1/6 and beta 1/2 is HardSwish.
  const Node* mul = b.sole_consumer(out);
  if (mul && mul->op_type() == "Mul" && std::fabs(alpha - 1.0f / 6) < 1e-6f && beta == 0.5f &&
      ((mul->input(0) == x && mul->input(1) == out) || (mul->input(1) == x && mul->input(0) == out))) {
    b.skip(mul);
    return unary(b, OpCode::kHardSwish, x, mul->output(0));
  }
  // clip(alpha x + beta, 0, 1) = relu6(6 alpha x + 6 beta) / 6, in standard builtins.
  b.set_constant(out + "/alpha", Constant::floats({}, {6 * alpha}));
  b.set_constant(out + "/beta", Constant::floats({}, {6 * beta}));
  b.set_constant(out + "/sixth", Constant::floats({}, {1.0f / 6}));
  elementwise(b, OpCode::kMul, {x, out + "/alpha"}, out + "/scaled");
  elementwise(b, OpCode::kAdd, {out + "/scaled", out + "/beta"}, out + "/clipped",
              ElementwiseOptions{Activation::kRelu6});
  elementwise(b, OpCode::kMul, {out + "/clipped", out + "/sixth"}, out);
}

void convert_hard_swish(Builder& b, const Node& node) {
  unary(b, OpCode::kHardSwish, node.input(0), node.output(0));
}

void convert_leaky_relu(Builder& b, const Node& node) {
  unary(b, OpCode::kLeakyRelu, node.input(0), node.output(0),
        LeakyReluOptions{attr_float(node, "alpha", 0.01f)});
}

void convert_prelu(Builder& b, const Node& node) {
  elementwise(b, OpCode::kPrelu, {node.input(0), node.input(1)}, node.output(0), std::monostate{});
}

void convert_softmax(Builder& b, const Node& node) {
  const std::string x = node.input(0), out = node.output(0);
  const Value v = b.value(x);
  const int rank = static_cast<int>(v.dims.size());
  const int axis = normalize_axis(attr_int(node, "axis", b.opset() < 13 ? 1 : -1), rank);
  // Before opset 13 Softmax works on the input flattened to 2-D at `axis`.
  bool trailing_ones = true;
  for (int d = axis + 1; d < rank; ++d) trailing_ones &= v.dims[static_cast<size_t>(d)] == 1;
  const bool over_one_axis = b.opset() >= 13 || trailing_ones;
  if (over_one_axis && v.nhwc && axis == 1) return unary(b, OpCode::kSoftmax, x, out, SoftmaxOptions{});
  if (axis == rank - 1) {
    const int in = b.onnx_tensor(x);
    const int t = b.add_tensor(out, v.dims);
    b.add_op(OpCode::kSoftmax, {in}, {t}, SoftmaxOptions{});
    return b.set_tensor(out, v.dims, t, false);
  }
  OSPREY_CHECK(b.opset() < 13, "Softmax over axis {} of {} is not supported (only the last axis or channels)",
               axis, rank);
  const Dims flat = flatten_dims(v.dims, axis);
  const int in = b.reshape(b.onnx_tensor(x), flat, out + "/2d");
  const int soft = b.add_tensor(out + "/softmax", flat);
  b.add_op(OpCode::kSoftmax, {in}, {soft}, SoftmaxOptions{});
  b.set_tensor(out, v.dims, b.reshape(soft, v.dims, out), false);
}

template <OpCode kCode>
void convert_reduce(Builder& b, const Node& node) {
  const std::string x = node.input(0), out = node.output(0);
  const Value v = b.value(x);
  const int rank = static_cast<int>(v.dims.size());
  std::vector<int64_t> axes = attr_ints(node, "axes");
  if (kCode == OpCode::kSum && b.opset() >= 13 && !Builder::input(node, 1).empty()) {
    axes = b.constant(node.input(1)).ints();
  }
  if (axes.empty()) {
    for (int d = 0; d < rank; ++d) axes.push_back(d);
  }
  const bool keep = attr_int(node, "keepdims", 1) != 0;
  const bool nhwc = v.nhwc && !v.constant && keep;
  std::vector<bool> reduced(static_cast<size_t>(rank), false);
  std::vector<int32_t> axes32;
  for (int64_t a : axes) {
    const int axis = normalize_axis(a, rank);
    reduced[static_cast<size_t>(axis)] = true;
    axes32.push_back(nhwc ? kNhwcAxis[static_cast<size_t>(axis)] : axis);
  }
  Dims dims;
  for (int d = 0; d < rank; ++d) {
    if (!reduced[static_cast<size_t>(d)])
      dims.push_back(v.dims[static_cast<size_t>(d)]);
    else if (keep)
      dims.push_back(1);
  }
  const int in = b.tensor_in(x, nhwc);
  const int axes_tensor = b.int32_tensor(out + "/axes", axes32);
  const int t = b.add_tensor(out, nhwc ? permute(dims, kToNhwc) : dims);
  b.add_op(kCode, {in, axes_tensor}, {t}, ReducerOptions{keep});
  b.set_tensor(out, dims, t, nhwc);
}

// FULLY_CONNECTED with weights [N, K] and an optional bias folded from a sole Add consumer.
void fully_connected(Builder& b, const std::string& a, const std::vector<float>& weights_nk, int64_t n,
                     int64_t k, std::vector<float> bias, std::string output) {
  const Dims in = b.dims(a);
  OSPREY_CHECK(in.size() >= 2 && in.back() == k, "input's last dimension is not {}", k);
  if (const Node* add = b.sole_consumer(output); bias.empty() && add && add->op_type() == "Add") {
    const std::string other = add->input(0) == output ? add->input(1) : add->input(0);
    if (b.is_constant(other) && b.constant(other).is_float && b.constant(other).size() == n &&
        b.constant(other).dims.back() == n && b.constant(other).dims.size() <= in.size()) {
      bias = b.constant(other).f;
      b.skip(add);
      output = add->output(0);
    }
  }
  const Activation act = fuse_activation(b, output);
  Dims out = in;
  out.back() = n;
  const int input = b.onnx_tensor(a);
  const int w = b.float_tensor(output + "/weights", {n, k}, weights_nk);
  const int bias_tensor = bias.empty() ? -1 : b.float_tensor(output + "/bias", {n}, bias);
  const int t = b.add_tensor(output, in.size() == 2 ? out : out);
  b.add_op(OpCode::kFullyConnected, {input, w, bias_tensor}, {t}, FullyConnectedOptions{act, in.size() > 2});
  b.set_tensor(output, out, t, false);
}

void convert_matmul(Builder& b, const Node& node) {
  const std::string a = node.input(0), c = node.input(1);
  const Dims da = b.dims(a), dc = b.dims(c);
  OSPREY_CHECK(da.size() >= 2 && dc.size() >= 2, "MatMul on vectors is not supported");
  if (b.is_constant(c) && dc.size() == 2) {
    const Constant& w = b.constant(c);  // [K, N] -> [N, K]
    const int64_t k = dc[0], n = dc[1];
    std::vector<float> t(w.f.size());
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < n; ++j) t[static_cast<size_t>(j * k + i)] = w.f[static_cast<size_t>(i * n + j)];
    return fully_connected(b, a, t, n, k, {}, node.output(0));
  }
  OSPREY_CHECK(da.back() == dc[dc.size() - 2], "MatMul inner dimensions differ ({} and {})", da.back(),
               dc[dc.size() - 2]);
  Dims batch = broadcast_dims(Dims(da.begin(), da.end() - 2), Dims(dc.begin(), dc.end() - 2));
  Dims out = batch;
  out.push_back(da[da.size() - 2]);
  out.push_back(dc.back());
  const int ta = b.onnx_tensor(a), tc = b.onnx_tensor(c);
  const int t = b.add_tensor(node.output(0), out);
  b.add_op(OpCode::kBatchMatMul, {ta, tc}, {t}, BatchMatMulOptions{});
  b.set_tensor(node.output(0), out, t, false);
}

void convert_gemm(Builder& b, const Node& node) {
  OSPREY_CHECK(attr_int(node, "transA", 0) == 0, "Gemm with transA is not supported");
  const Constant& w = b.constant(node.input(1));
  OSPREY_CHECK(w.is_float && w.dims.size() == 2, "Gemm B must be a 2-D float constant");
  const bool trans_b = attr_int(node, "transB", 0) != 0;
  const float alpha = attr_float(node, "alpha", 1.0f), beta = attr_float(node, "beta", 1.0f);
  const int64_t k = trans_b ? w.dims[1] : w.dims[0], n = trans_b ? w.dims[0] : w.dims[1];
  std::vector<float> t(w.f.size());
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j)
      t[static_cast<size_t>(j * k + i)] = alpha * w.f[static_cast<size_t>(trans_b ? j * k + i : i * n + j)];
  std::vector<float> bias;
  if (!Builder::input(node, 2).empty()) {
    const Constant& c = b.constant(node.input(2));
    OSPREY_CHECK(
        c.is_float && (c.size() == n || c.size() == 1) && (c.dims.empty() || c.dims.back() == c.size()),
        "Gemm C must broadcast as a bias of {} values", n);
    for (int64_t j = 0; j < n; ++j) bias.push_back(beta * c.f[c.size() == 1 ? 0 : static_cast<size_t>(j)]);
  }
  OSPREY_CHECK(b.rank(node.input(0)) == 2, "Gemm A must be 2-D");
  fully_connected(b, node.input(0), t, n, k,
                  bias.empty() ? std::vector<float>(static_cast<size_t>(n), 0.0f) : bias, node.output(0));
}

}  // namespace

std::pair<float, float> clip_bounds(Builder& b, const Node& node) {
  if (b.opset() < 11) return {attr_float(node, "min", -kInf), attr_float(node, "max", kInf)};
  float lo = -kInf, hi = kInf;
  if (!Builder::input(node, 1).empty()) lo = static_cast<float>(b.constant(node.input(1)).at(0));
  if (!Builder::input(node, 2).empty()) hi = static_cast<float>(b.constant(node.input(2)).at(0));
  return {lo, hi};
}

Activation fuse_activation(Builder& b, std::string& output) {
  const Node* next = b.sole_consumer(output);
  if (!next || next->input_size() < 1 || next->input(0) != output) return Activation::kNone;
  Activation act = Activation::kNone;
  if (next->op_type() == "Relu") {
    act = Activation::kRelu;
  } else if (next->op_type() == "Clip") {
    for (int i = 1; i < next->input_size(); ++i) {
      if (!next->input(i).empty() && !b.is_constant(next->input(i))) return Activation::kNone;
    }
    const auto [lo, hi] = clip_bounds(b, *next);
    if (lo == 0.0f && hi == 6.0f)
      act = Activation::kRelu6;
    else if (lo == -1.0f && hi == 1.0f)
      act = Activation::kReluN1To1;
    else if (lo == 0.0f && hi == kInf)
      act = Activation::kRelu;
  }
  if (act != Activation::kNone) {
    b.skip(next);
    output = next->output(0);
  }
  return act;
}

void add_math_converters(ConverterTable& t) {
  using enum OpCode;
  t["Relu"] = convert_unary<kRelu>;
  t["Sigmoid"] = convert_unary<kLogistic>;
  t["Tanh"] = convert_unary<kTanh>;
  t["Sqrt"] = convert_unary<kSqrt>;
  t["HardSwish"] = convert_hard_swish;
  t["HardSigmoid"] = convert_hard_sigmoid;
  t["LeakyRelu"] = convert_leaky_relu;
  t["PRelu"] = convert_prelu;
  t["Clip"] = convert_clip;
  t["Add"] = convert_binary<kAdd>;
  t["Sub"] = convert_binary<kSub>;
  t["Mul"] = convert_binary<kMul>;
  t["Div"] = convert_div;
  t["Max"] = [](Builder& b, const Node& n) { convert_max_min(b, n, OpCode::kMaximum); };
  t["Min"] = [](Builder& b, const Node& n) { convert_max_min(b, n, OpCode::kMinimum); };
  t["Pow"] = convert_pow;
  t["Softmax"] = convert_softmax;
  t["ReduceMean"] = convert_reduce<kMean>;
  t["ReduceMax"] = convert_reduce<kReduceMax>;
  t["ReduceSum"] = convert_reduce<kSum>;
  t["MatMul"] = convert_matmul;
  t["Gemm"] = convert_gemm;
}

}  // namespace osprey::onnx
