#include "quant/quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <set>

#include "core/error.h"
#include "ops/registry.h"
#include "quant/equalize.h"
#include "quant/graph_runner.h"

namespace osprey::quant {

namespace {

bool is(const Op& op, OpCode code) {
  return op.code == static_cast<int32_t>(code);
}

// ---------------------------------------------------------------- op rules (from the op registry)

using Role = ops::InputRole;

const ops::QuantRule& rule(const Op& op) {
  static const ops::QuantRule kNotQuantizable;
  const ops::OpDef* def = ops::find_op(op);
  return def ? def->quant : kNotQuantizable;
}

bool has_weights(const Op& op) {
  const ops::QuantRule& r = rule(op);
  return std::find(r.roles.begin(), r.roles.end(), Role::kWeights) != r.roles.end();
}

std::optional<AffineParams> fixed_output(const Op& op) {
  const ops::QuantRule& r = rule(op);
  if (r.output != ops::OutputParams::kFixed) return std::nullopt;
  return AffineParams{r.fixed_scale, r.fixed_zero_point};
}

// ---------------------------------------------------------------- union-find

struct Groups {
  std::vector<int> parent;
  std::vector<float> lo, hi;
  std::vector<std::optional<AffineParams>> fixed;

  explicit Groups(size_t n) : parent(n), lo(n, 0), hi(n, 0), fixed(n) {
    std::iota(parent.begin(), parent.end(), 0);
  }
  int find(int t) {
    while (parent[static_cast<size_t>(t)] != t) {
      parent[static_cast<size_t>(t)] = parent[static_cast<size_t>(parent[static_cast<size_t>(t)])];
      t = parent[static_cast<size_t>(t)];
    }
    return t;
  }
  static bool same(const AffineParams& a, const AffineParams& b) {
    return a.scale == b.scale && a.zero_point == b.zero_point;
  }
  // False (and nothing merged) when both groups have different fixed parameters.
  bool unite(int a, int b) {
    a = find(a);
    b = find(b);
    if (a == b) return true;
    const auto& fa = fixed[static_cast<size_t>(a)];
    const auto& fb = fixed[static_cast<size_t>(b)];
    if (fa && fb && !same(*fa, *fb)) return false;
    parent[static_cast<size_t>(b)] = a;
    lo[static_cast<size_t>(a)] = std::min(lo[static_cast<size_t>(a)], lo[static_cast<size_t>(b)]);
    hi[static_cast<size_t>(a)] = std::max(hi[static_cast<size_t>(a)], hi[static_cast<size_t>(b)]);
    if (!fa) fixed[static_cast<size_t>(a)] = fb;
    return true;
  }
};

// True when some pixel value lo + p * step lands within 1e-3 of a rounding tie.
bool has_ties(const vision::Normalization& norm, float scale) {
  const float step = (norm.hi - norm.lo) / 255.0f;
  for (int p = 0; p < 256; ++p) {
    const float v = (norm.lo + static_cast<float>(p) * step) / scale;
    const float frac = v - std::floor(v);
    if (std::abs(frac - 0.5f) < 1e-3f) return true;
  }
  return false;
}

// A graph with only the tensors its ops and I/O use, constants copied into its own storage.
Graph compact(const Graph& g) {
  std::vector<int> remap(g.tensors.size(), -1);
  Graph out;
  auto use = [&](int t) {
    if (t < 0) return -1;
    int& r = remap[static_cast<size_t>(t)];
    if (r < 0) {
      r = static_cast<int>(out.tensors.size());
      out.tensors.push_back(g.tensors[static_cast<size_t>(t)]);
    }
    return r;
  };
  for (int t : g.inputs) out.inputs.push_back(use(t));
  for (const Op& op : g.ops) {
    Op o = op;
    o.index = static_cast<int>(out.ops.size());
    for (int& t : o.inputs) t = use(t);
    for (int& t : o.outputs) t = use(t);
    out.ops.push_back(std::move(o));
  }
  for (int t : g.outputs) out.outputs.push_back(use(t));
  for (Tensor& t : out.tensors) {
    if (!t.is_constant) {
      t.data = nullptr;
      continue;
    }
    t.data = t.data ? out.copy_bytes(t.data, t.num_bytes()) : out.allocate_bytes(t.num_bytes());
  }
  return out;
}

}  // namespace

bool has_integer_form(int32_t code) {
  const ops::OpDef* def = ops::find_op(code);
  return code != static_cast<int32_t>(OpCode::kCustom) && def && def->quant.quantizable();
}

Granularity parse_granularity(const std::string& name) {
  if (name == "per-tensor") return Granularity::kPerTensor;
  if (name == "per-channel") return Granularity::kPerChannel;
  fail("unknown granularity '{}' (use per-tensor or per-channel)", name);
}
IoType parse_io_type(const std::string& name) {
  if (name == "uint8") return IoType::kUInt8;
  if (name == "int8") return IoType::kInt8;
  if (name == "float" || name == "float32") return IoType::kFloat;
  fail("unknown input/output type '{}' (use uint8, int8 or float)", name);
}
const char* granularity_name(Granularity g) {
  return g == Granularity::kPerTensor ? "per-tensor" : "per-channel";
}
const char* io_type_name(IoType t) {
  return t == IoType::kUInt8 ? "uint8" : t == IoType::kInt8 ? "int8" : "float";
}

// ---------------------------------------------------------------- step 1

PreparedGraph prepare_float_graph(const Graph& folded, bool equalize) {
  PreparedGraph p;
  p.graph = live_graph(folded);
  Graph& g = p.graph;

  // MediaPipe's Convolution2DTransposeBias -> TRANSPOSE_CONV(output_shape, weights, input, bias).
  int rewritten = 0;
  for (Op& op : g.ops) {
    if (!is(op, OpCode::kCustom) || op.custom_code != "Convolution2DTransposeBias") continue;
    OSPREY_CHECK(op.inputs.size() == 3, "op #{} Convolution2DTransposeBias: expected 3 inputs", op.index);
    // The op registry's parser, on the custom bytes (hand-built graphs may lack parsed options).
    TransposeConvOptions options;
    try {
      options = std::get<TransposeConvOptions>(
          ops::parse_options(op.code, op.custom_code, {nullptr, op.custom_options}));
    } catch (const Error& e) {
      fail("op #{} Convolution2DTransposeBias: {}", op.index, e.what());
    }
    const Tensor& out = g.tensors[static_cast<size_t>(op.outputs[0])];
    Tensor shape;
    shape.name = out.name + "/output_shape";
    shape.type = DType::kInt32;
    shape.shape = {4};
    shape.is_constant = true;
    g.tensors.push_back(shape);
    Tensor& st = g.tensors.back();
    int32_t* dims = reinterpret_cast<int32_t*>(g.allocate_constant(st));
    for (int d = 0; d < 4; ++d) dims[d] = g.tensors[static_cast<size_t>(op.outputs[0])].dim(d);
    const int shape_index = static_cast<int>(g.tensors.size()) - 1;
    const int input = op.inputs[0], weights = op.inputs[1], bias = op.inputs[2];
    op.code = static_cast<int32_t>(OpCode::kTransposeConv);
    op.custom_code.clear();
    op.custom_options.clear();
    op.version = 1;
    op.inputs = {shape_index, weights, input, bias};
    op.options = options;
    ++rewritten;
  }
  if (rewritten) {
    p.notes.push_back(
        fmt::format("rewrote {} Convolution2DTransposeBias (MediaPipe custom op) as builtin "
                    "TRANSPOSE_CONV with bias",
                    rewritten));
  }

  // RELU/RELU6/RELU_N1_TO_1 into the op that produces their input.
  const std::vector<int> producer = producers(g);
  const std::vector<std::vector<int>> consumer = consumers(g);
  std::set<int> outputs(g.outputs.begin(), g.outputs.end());
  std::vector<char> removed(g.ops.size(), 0);
  int fused = 0;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    Op& relu = g.ops[i];
    Activation act;
    if (is(relu, OpCode::kRelu)) {
      act = Activation::kRelu;
    } else if (is(relu, OpCode::kRelu6)) {
      act = Activation::kRelu6;
    } else if (is(relu, OpCode::kReluN1To1)) {
      act = Activation::kReluN1To1;
    } else {
      continue;
    }
    const int x = relu.inputs.empty() ? -1 : relu.inputs[0];
    if (x < 0 || producer[static_cast<size_t>(x)] < 0) continue;
    if (consumer[static_cast<size_t>(x)].size() != 1 || outputs.count(x)) continue;
    Op& p_op = g.ops[static_cast<size_t>(producer[static_cast<size_t>(x)])];
    Activation* slot = nullptr;
    if (auto* o = std::get_if<Conv2DOptions>(&p_op.options)) slot = &o->activation;
    if (auto* o = std::get_if<DepthwiseConv2DOptions>(&p_op.options)) slot = &o->activation;
    if (auto* o = std::get_if<FullyConnectedOptions>(&p_op.options)) slot = &o->activation;
    if (auto* o = std::get_if<ElementwiseOptions>(&p_op.options); o && !is(p_op, OpCode::kDiv))
      slot = &o->activation;
    if (!slot && (is(p_op, OpCode::kAdd) || is(p_op, OpCode::kSub) || is(p_op, OpCode::kMul)) &&
        std::holds_alternative<std::monostate>(p_op.options)) {
      p_op.options = ElementwiseOptions{};
      slot = &std::get<ElementwiseOptions>(p_op.options).activation;
    }
    if (!slot || *slot != Activation::kNone) continue;
    *slot = act;
    p_op.outputs[0] = relu.outputs[0];
    removed[i] = 1;
    ++fused;
  }
  if (fused) {
    std::vector<Op> kept;
    for (size_t i = 0; i < g.ops.size(); ++i) {
      if (!removed[i]) kept.push_back(std::move(g.ops[i]));
    }
    g.ops = std::move(kept);
    p.notes.push_back(
        fmt::format("fused {} RELU/RELU6 op{} into the op before", fused, fused == 1 ? "" : "s"));
  }
  // After the fusion: a RELU fused into the depthwise convolution lets the scales through.
  if (equalize) {
    p.equalized_pairs = equalize_depthwise_pairs(g);
    p.notes.push_back(fmt::format("equalized the weights of {} depthwise/convolution pair{}",
                                  p.equalized_pairs, p.equalized_pairs == 1 ? "" : "s"));
  }
  return p;
}

// ---------------------------------------------------------------- step 3

namespace {

enum class Home { kNone, kFloat, kInt8, kUInt8 };

class Quantizer {
 public:
  Quantizer(const Graph& g, const Calibrator& calib, const QuantizeOptions& options)
      : g_(g), calib_(calib), opt_(options), groups_(g.tensors.size()) {}

  QuantizedGraph run() {
    mark_used();
    decide_float_ops();
    choose_params();
    build();
    QuantizedGraph result;
    result.graph = compact(q_);
    result.notes = std::move(notes_);
    result.float_ops = std::move(float_ops_);
    result.requantize_ops = requantized_;
    result.range_limits = std::move(limits_);
    return result;
  }

 private:
  const Tensor& tensor(int t) const { return g_.tensors[static_cast<size_t>(t)]; }
  // A float tensor computed at run time that the graph uses.
  bool activation(int t) const {
    return t >= 0 && used_[static_cast<size_t>(t)] && !tensor(t).is_constant &&
           tensor(t).type == DType::kFloat32;
  }

  void mark_used() {
    used_.assign(g_.tensors.size(), 0);
    for (const Op& op : g_.ops) {
      for (int t : op.inputs) {
        if (t >= 0) used_[static_cast<size_t>(t)] = 1;
      }
      for (int t : op.outputs) used_[static_cast<size_t>(t)] = 1;
    }
    for (int t : g_.inputs) used_[static_cast<size_t>(t)] = 1;
    for (int t : g_.outputs) used_[static_cast<size_t>(t)] = 1;
  }

  void decide_float_ops() {
    integer_.assign(g_.ops.size(), 0);
    std::map<std::string, int> unsupported;
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      const Op& op = g_.ops[i];
      bool ok = has_integer_form(op.code);
      // An op with integer form whose data is not float (e.g. int32 arithmetic) is left alone.
      if (ok) {
        bool any_float = false;
        for (size_t k = 0; k < op.inputs.size(); ++k) {
          const int t = op.inputs[k];
          if (t >= 0 && tensor(t).type == DType::kFloat32) any_float = true;
        }
        if (!any_float) ok = false;
        if (ok && has_weights(op)) {
          const int w = op.inputs.size() > 1 ? op.inputs[1] : -1;
          if (w < 0 || !tensor(w).is_constant) ok = false;
        }
      }
      if (ok) {
        integer_[i] = 1;
        continue;
      }
      const std::string name = is(op, OpCode::kCustom) ? op.name() + " (custom op)" : op.name();
      ++unsupported[name];
      float_ops_.push_back(fmt::format("op #{} {}", op.index, name));
    }
    if (unsupported.empty()) return;
    std::string list;
    for (const auto& [name, count] : unsupported)
      list += fmt::format("{}{} x{}", list.empty() ? "" : ", ", name, count);
    OSPREY_CHECK(
        opt_.allow_float_ops,
        "cannot quantize {} op kind{} to integer: {} (no int8 kernel in TFLite/osprey, or non-constant "
        "weights); --allow-float-ops keeps them in float between DEQUANTIZE/QUANTIZE (the model is then "
        "not full-integer)",
        unsupported.size(), unsupported.size() == 1 ? "" : "s", list);
    notes_.push_back(fmt::format("kept in float (hybrid, not full-integer): {}", list));
  }

  void choose_params() {
    const size_t n = g_.tensors.size();
    const std::set<int> model_outputs(g_.outputs.begin(), g_.outputs.end());
    for (size_t t = 0; t < n; ++t) {
      if (!activation(static_cast<int>(t))) continue;
      const auto& s = calib_.stats()[t];
      OSPREY_CHECK(s.seen, "tensor {} '{}' was never computed during calibration", t,
                   tensor(static_cast<int>(t)).name);
      // Model outputs keep their whole range: box decoders and score thresholds
      // downstream need the tails that percentile/entropy clipping would cut.
      const CalibrationMethod method =
          model_outputs.count(static_cast<int>(t)) ? CalibrationMethod::kMinMax : opt_.method;
      const auto [lo, hi] = calib_.range(static_cast<int>(t), method, opt_.percentile);
      groups_.lo[t] = lo;
      groups_.hi[t] = hi;
    }
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      if (!integer_[i]) continue;
      if (auto f = fixed_output(g_.ops[i])) groups_.fixed[static_cast<size_t>(g_.ops[i].outputs[0])] = *f;
    }
    // A tensor read only by LOGISTIC (TANH) needs no range beyond +-8 (+-4):
    // the output, in steps of 1/256 (1/128), is saturated there. Clipping
    // gives the values that matter (around 0) a finer scale.
    const std::vector<std::vector<int>> readers = consumers(g_);
    std::set<int> outputs(g_.outputs.begin(), g_.outputs.end());
    int clipped = 0;
    for (size_t t = 0; t < n; ++t) {
      if (!activation(static_cast<int>(t)) || readers[t].empty() || outputs.count(static_cast<int>(t)))
        continue;
      float limit = 0;
      for (int r : readers[t]) {
        const Op& op = g_.ops[static_cast<size_t>(r)];
        const float l = integer_[static_cast<size_t>(r)] ? rule(op).saturating_input : 0.0f;
        if (l == 0) {
          limit = 0;
          break;
        }
        limit = std::max(limit, l);
      }
      if (limit == 0 || (groups_.lo[t] >= -limit && groups_.hi[t] <= limit)) continue;
      groups_.lo[t] = std::max(groups_.lo[t], -limit);
      groups_.hi[t] = std::min(groups_.hi[t], limit);
      limits_[t] = limit;
      ++clipped;
    }
    if (clipped) {
      notes_.push_back(fmt::format("{} LOGISTIC/TANH input range{} clipped to where the output saturates",
                                   clipped, clipped == 1 ? "" : "s"));
    }
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      const Op& op = g_.ops[i];
      const ops::QuantRule& quant = rule(op);
      if (!integer_[i] || quant.output != ops::OutputParams::kSameAsInputs) continue;
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        const int x = op.inputs[k];
        if ((quant.role(k) != Role::kData && quant.role(k) != Role::kGroupConst) || !activation(x)) continue;
        for (int y : op.outputs) {
          const int rx = groups_.find(x), ry = groups_.find(y);
          const bool fixed_in = groups_.fixed[static_cast<size_t>(rx)].has_value();
          const bool fixed_out = groups_.fixed[static_cast<size_t>(ry)].has_value();
          if (quant.requantize_fixed_inputs && fixed_in && !fixed_out && op.inputs.size() > 1) {
            requant_.insert({static_cast<int>(i), static_cast<int>(k)});
            continue;
          }
          if (!groups_.unite(y, x)) requant_.insert({static_cast<int>(i), static_cast<int>(k)});
        }
      }
    }
    bound_outputs(readers);
    params_.assign(n, AffineParams{});
    for (size_t t = 0; t < n; ++t) {
      if (!activation(static_cast<int>(t))) continue;
      const int r = groups_.find(static_cast<int>(t));
      const auto& f = groups_.fixed[static_cast<size_t>(r)];
      params_[t] = f ? *f
                     : choose_activation_params(groups_.lo[static_cast<size_t>(r)],
                                                groups_.hi[static_cast<size_t>(r)]);
    }
    // Image inputs: keep pixel values away from rounding ties (applied to the whole group).
    if (opt_.image_input) {
      for (int t : g_.inputs) {
        if (!activation(t)) continue;
        const int r = groups_.find(t);
        if (groups_.fixed[static_cast<size_t>(r)]) continue;
        AffineParams p = params_[static_cast<size_t>(t)];
        const float base = p.scale;
        for (int k = 1; k < 200 && has_ties(*opt_.image_input, p.scale); ++k) {
          p.scale = base * (1.0f + 0.001f * static_cast<float>(k));
        }
        if (p.scale != base) {
          for (size_t u = 0; u < n; ++u) {
            if (activation(static_cast<int>(u)) && groups_.find(static_cast<int>(u)) == r) params_[u] = p;
          }
          notes_.push_back(
              fmt::format("input '{}': scale {:.6g} -> {:.6g} so that no pixel value is a rounding tie",
                          tensor(t).name, base, p.scale));
        }
      }
    }
    // Ops with a bound on input scale / output scale (TFLite rejects them otherwise).
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      const Op& op = g_.ops[i];
      const float limit = rule(op).max_scale_ratio;
      if (!integer_[i] || limit <= 0) continue;
      const int y = op.outputs[0];
      AffineParams out = params_[static_cast<size_t>(y)];
      const float in_scale = params_[static_cast<size_t>(op.inputs[0])].scale;
      if (in_scale / out.scale >= limit) {
        out.scale = in_scale / limit;
        notes_.push_back(
            fmt::format("op #{} {}: output scale widened to {:.6g}", op.index, op.name(), out.scale));
        const int r = groups_.find(y);
        for (size_t u = 0; u < n; ++u) {
          if (activation(static_cast<int>(u)) && groups_.find(static_cast<int>(u)) == r) params_[u] = out;
        }
      }
    }
  }

  // An output the head clamps to +-limit (a detector's score logits) needs no
  // range beyond: past it the head's result is the same, and a far tail (logits
  // of -5000 on a page of text) would leave the scores near the threshold a
  // few steps of the scale. The whole group of the output is bounded, unless
  // one of its tensors is also read by an op outside the group.
  void bound_outputs(const std::vector<std::vector<int>>& readers) {
    for (const vision::OutputBound& b : opt_.output_bounds) {
      OSPREY_CHECK(b.output >= 0 && static_cast<size_t>(b.output) < g_.outputs.size(),
                   "the task head bounds output {} of a model with {} outputs", b.output, g_.outputs.size());
      const int t = g_.outputs[static_cast<size_t>(b.output)];
      if (!activation(t)) continue;
      const size_t r = static_cast<size_t>(groups_.find(t));
      float& lo = groups_.lo[r];
      float& hi = groups_.hi[r];
      if (groups_.fixed[r] || (lo >= -b.limit && hi <= b.limit) ||
          read_outside_group(static_cast<int>(r), readers))
        continue;
      notes_.push_back(fmt::format(
          "output '{}': range [{:.4g}, {:.4g}] limited to [{:.4g}, {:.4g}], where the task head "
          "clamps it ({} {})",
          tensor(t).name, lo, hi, std::max(lo, -b.limit), std::min(hi, b.limit), b.field, b.limit));
      lo = std::max(lo, -b.limit);
      hi = std::min(hi, b.limit);
      for (size_t u = 0; u < g_.tensors.size(); ++u) {
        if (activation(static_cast<int>(u)) && groups_.find(static_cast<int>(u)) == static_cast<int>(r))
          limits_[u] = b.limit;
      }
    }
  }

  bool read_outside_group(int root, const std::vector<std::vector<int>>& readers) {
    for (size_t u = 0; u < g_.tensors.size(); ++u) {
      if (!activation(static_cast<int>(u)) || groups_.find(static_cast<int>(u)) != root) continue;
      for (int r : readers[u]) {
        if (!integer_[static_cast<size_t>(r)]) return true;
        for (int y : g_.ops[static_cast<size_t>(r)].outputs)
          if (!activation(y) || groups_.find(y) != root) return true;
      }
    }
    return false;
  }

  Quantization quantization_of(const AffineParams& p, bool unsigned_type = false) const {
    Quantization q;
    q.scale = {p.scale};
    q.zero_point = {p.zero_point + (unsigned_type ? 128 : 0)};
    return q;
  }

  int add_tensor(Tensor t) {
    q_.tensors.push_back(std::move(t));
    home_.push_back(Home::kNone);
    return static_cast<int>(q_.tensors.size()) - 1;
  }

  int add_constant(const std::string& name, DType type, const Shape& shape, const void* data,
                   Quantization quant) {
    Tensor t;
    t.name = name;
    t.type = type;
    t.shape = shape;
    t.quant = std::move(quant);
    t.is_constant = true;
    const int index = add_tensor(std::move(t));
    uint8_t* p = q_.allocate_constant(q_.tensors[static_cast<size_t>(index)]);
    std::memcpy(p, data, q_.tensors[static_cast<size_t>(index)].num_bytes());
    return index;
  }

  void add_op(OpCode code, int input, int output, OpOptions options = {}) {
    Op op;
    op.code = static_cast<int32_t>(code);
    op.inputs = {input};
    op.outputs = {output};
    op.options = std::move(options);
    ops_.push_back(std::move(op));
  }

  // A tensor like `t` with another type/quantization and name.
  int variant_of(int t, DType type, Quantization quant, const std::string& suffix) {
    Tensor x = q_.tensors[static_cast<size_t>(t)];
    x.name += suffix;
    x.type = type;
    x.quant = std::move(quant);
    x.is_constant = false;
    x.data = nullptr;
    return add_tensor(std::move(x));
  }

  int ensure_int8(int t) {
    if (home_[static_cast<size_t>(t)] == Home::kInt8) return t;
    auto it = as_int8_.find(t);
    if (it != as_int8_.end()) return it->second;
    const AffineParams& p = params_[static_cast<size_t>(t)];
    const bool from_float = home_[static_cast<size_t>(t)] == Home::kFloat;
    const int v = variant_of(t, DType::kInt8, quantization_of(p), from_float ? "/quantized" : "/int8");
    home_[static_cast<size_t>(v)] = Home::kInt8;
    add_op(OpCode::kQuantize, t, v);
    as_int8_[t] = v;
    return v;
  }

  int ensure_float(int t) {
    if (home_[static_cast<size_t>(t)] == Home::kFloat) return t;
    auto it = as_float_.find(t);
    if (it != as_float_.end()) return it->second;
    const int v = variant_of(t, DType::kFloat32, {}, "/dequantized");
    home_[static_cast<size_t>(v)] = Home::kFloat;
    add_op(OpCode::kDequantize, t, v);
    as_float_[t] = v;
    return v;
  }

  const float* float_data(int t) const { return tensor(t).data_as<float>(); }
  // A float constant about to be quantized: NaN and infinity have no integer form.
  const float* finite_data(int t, const std::string& who, size_t k) const {
    const Tensor& x = tensor(t);
    const float* v = x.data_as<float>();
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      OSPREY_CHECK(std::isfinite(v[i]),
                   "{}: input {} ('{}') holds {} at element {}, which has no integer form", who, k, x.name,
                   v[i], i);
    }
    return v;
  }

  void build() {
    // Descriptors first: same indices as g_, data shared until compact() copies it.
    q_.tensors = g_.tensors;
    home_.assign(q_.tensors.size(), Home::kNone);
    q_.inputs = g_.inputs;
    q_.outputs = g_.outputs;
    for (int t : g_.inputs) {
      Tensor& x = q_.tensors[static_cast<size_t>(t)];
      if (x.type != DType::kFloat32) {
        home_[static_cast<size_t>(t)] = Home::kNone;
        continue;
      }
      const AffineParams& p = params_[static_cast<size_t>(t)];
      switch (opt_.io) {
        case IoType::kFloat: home_[static_cast<size_t>(t)] = Home::kFloat; break;
        case IoType::kInt8:
          x.type = DType::kInt8;
          x.quant = quantization_of(p);
          home_[static_cast<size_t>(t)] = Home::kInt8;
          break;
        case IoType::kUInt8:
          x.type = DType::kUInt8;
          x.quant = quantization_of(p, true);
          home_[static_cast<size_t>(t)] = Home::kUInt8;
          break;
      }
    }
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      if (integer_[i]) {
        build_integer_op(static_cast<int>(i));
      } else {
        build_float_op(static_cast<int>(i));
      }
    }
    // Model outputs in the requested type.
    for (int& out : q_.outputs) {
      const Home h = home_[static_cast<size_t>(out)];
      if (h == Home::kNone) continue;
      const DType want = opt_.io == IoType::kFloat  ? DType::kFloat32
                         : opt_.io == IoType::kInt8 ? DType::kInt8
                                                    : DType::kUInt8;
      if (q_.tensors[static_cast<size_t>(out)].type == want) continue;
      // The producer writes a renamed internal tensor; the named output gets converted values.
      const int internal =
          variant_of(out, q_.tensors[static_cast<size_t>(out)].type,
                     q_.tensors[static_cast<size_t>(out)].quant, h == Home::kFloat ? "/float" : "/int8");
      home_[static_cast<size_t>(internal)] = h;
      for (Op& op : ops_) {
        for (int& t : op.inputs) t = t == out ? internal : t;
        for (int& t : op.outputs) t = t == out ? internal : t;
      }
      Tensor& o = q_.tensors[static_cast<size_t>(out)];
      o.type = want;
      if (want == DType::kFloat32) {
        o.quant = {};
        add_op(OpCode::kDequantize, internal, out);
      } else {
        o.quant = quantization_of(params_[static_cast<size_t>(out)], want == DType::kUInt8);
        add_op(OpCode::kQuantize, internal, out);
      }
    }
    q_.ops = std::move(ops_);
  }

  void build_float_op(int i) {
    Op op = g_.ops[static_cast<size_t>(i)];
    for (int& t : op.inputs) {
      if (t >= 0 && !tensor(t).is_constant && tensor(t).type == DType::kFloat32) t = ensure_float(t);
    }
    for (int t : op.outputs)
      home_[static_cast<size_t>(t)] = tensor(t).type == DType::kFloat32 ? Home::kFloat : Home::kNone;
    ops_.push_back(std::move(op));
  }

  void build_integer_op(int i) {
    Op op = g_.ops[static_cast<size_t>(i)];
    const std::string who = fmt::format("op #{} {}", op.index, op.name());
    const ops::QuantRule& quant = rule(op);
    // Outputs first: their parameters are needed by group constants.
    for (int t : op.outputs) {
      if (!activation(t)) continue;
      Tensor& x = q_.tensors[static_cast<size_t>(t)];
      x.type = DType::kInt8;
      x.quant = quantization_of(params_[static_cast<size_t>(t)]);
      home_[static_cast<size_t>(t)] = Home::kInt8;
    }
    const AffineParams out_params = op.outputs.empty() || !activation(op.outputs[0])
                                        ? AffineParams{}
                                        : params_[static_cast<size_t>(op.outputs[0])];
    int data_input = -1;  // the (quantized) activation that feeds a conv-like op
    std::vector<float> w_scales;
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      int& t = op.inputs[k];
      if (t < 0) continue;
      const Role role = quant.role(k);
      const Tensor& x = tensor(t);
      if (role == Role::kInt || (x.type != DType::kFloat32 && role != Role::kData)) {
        OSPREY_CHECK(x.type != DType::kFloat32,
                     "{}: input {} is float where an integer parameter is expected", who, k);
        continue;
      }
      if (role == Role::kWeights || role == Role::kBias) continue;  // after the data input is known
      if (!x.is_constant) {
        OSPREY_CHECK(x.type == DType::kFloat32 || home_[static_cast<size_t>(t)] != Home::kNone,
                     "{}: input {} has type {}, cannot quantize", who, k, dtype_name(x.type));
        t = ensure_int8(t);
        if (requant_.count({i, static_cast<int>(k)})) {
          const int r = variant_of(t, DType::kInt8, quantization_of(out_params), "/requantized");
          home_[static_cast<size_t>(r)] = Home::kInt8;
          add_op(OpCode::kQuantize, t, r);
          ++requantized_;
          notes_.push_back(
              fmt::format("{}: input {} requantized to the output's parameters (its own are fixed)", who, k));
          t = r;
        }
        if (data_input < 0) data_input = t;
        continue;
      }
      // Float constants in data positions.
      const int64_t n = x.num_elements();
      const float* data = finite_data(t, who, k);
      AffineParams p;
      if (role == Role::kGroupConst) {
        p = out_params;
      } else if (role == Role::kOperand) {
        p = constant_params(data, n);
      } else {
        fail("{}: input {} is a float constant where an activation is expected", who, k);
      }
      const std::vector<int8_t> values = quantize_values(data, n, p);
      t = add_constant(x.name, DType::kInt8, x.shape, values.data(), quantization_of(p));
      home_[static_cast<size_t>(t)] = Home::kInt8;
    }
    // Weights and bias.
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      int& t = op.inputs[k];
      if (t < 0 || quant.role(k) != Role::kWeights) continue;
      const Tensor& w = tensor(t);
      OSPREY_CHECK(w.is_constant && w.type == DType::kFloat32, "{}: weights must be float constants", who);
      const int axis = opt_.granularity == Granularity::kPerChannel ? quant.weight_axis : -1;
      const float* data = finite_data(t, who, k);
      w_scales = symmetric_weight_scales(data, w.shape, axis);
      widen_for_bias(op, quant, data_input, w_scales, who);
      const std::vector<int8_t> q = quantize_weights(data, w.shape, axis, w_scales);
      Quantization quant;
      quant.scale = w_scales;
      quant.zero_point.assign(w_scales.size(), 0);
      quant.axis = axis < 0 ? 0 : axis;
      t = add_constant(w.name, DType::kInt8, w.shape, q.data(), quant);
    }
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      int& t = op.inputs[k];
      if (t < 0 || quant.role(k) != Role::kBias) continue;
      const Tensor& b = tensor(t);
      OSPREY_CHECK(b.is_constant && b.type == DType::kFloat32, "{}: bias must be a float constant", who);
      OSPREY_CHECK(data_input >= 0 && !w_scales.empty(), "{}: bias without input and weights", who);
      const float in_scale = q_.tensors[static_cast<size_t>(data_input)].quant.scale[0];
      int clamped = 0;
      const std::vector<int32_t> q =
          quantize_bias(finite_data(t, who, k), b.num_elements(), in_scale, w_scales, &clamped);
      if (clamped) notes_.push_back(fmt::format("{}: {} bias value(s) saturated to int32", who, clamped));
      Quantization quant;
      for (float s : w_scales) quant.scale.push_back(in_scale * s);
      quant.zero_point.assign(quant.scale.size(), 0);
      quant.axis = 0;
      t = add_constant(b.name, DType::kInt32, b.shape, q.data(), quant);
    }
    op.version = 1;
    ops_.push_back(std::move(op));
  }

  // A channel whose weights are tiny next to its bias would need a bias
  // scale (input scale * weight scale) too small for int32: widen the weight
  // scale until the bias fits in 2^30, as TFLite's converter does.
  void widen_for_bias(const Op& op, const ops::QuantRule& quant, int data_input, std::vector<float>& w_scales,
                      const std::string& who) {
    int bias = -1;
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      if (quant.role(k) == Role::kBias) bias = op.inputs[k];
    }
    if (bias < 0 || data_input < 0 || !tensor(bias).is_constant || tensor(bias).type != DType::kFloat32)
      return;
    const double in_scale = q_.tensors[static_cast<size_t>(data_input)].quant.scale[0];
    const float* b = float_data(bias);
    const int64_t n = tensor(bias).num_elements();
    constexpr double kBiasLimit = double{1 << 30};
    int widened = 0;
    for (int64_t c = 0; c < n; ++c) {
      const double needed = std::abs(static_cast<double>(b[c])) / (in_scale * kBiasLimit);
      float& s = w_scales[w_scales.size() == 1 ? 0 : static_cast<size_t>(c)];
      if (s < needed) {
        s = static_cast<float>(needed * (1 + 1e-6));
        ++widened;
      }
    }
    if (widened)
      notes_.push_back(
          fmt::format("{}: weight scale widened on {} channel(s) so the bias fits int32", who, widened));
  }

  const Graph& g_;
  const Calibrator& calib_;
  const QuantizeOptions& opt_;
  Groups groups_;
  std::vector<char> integer_;
  std::vector<char> used_;
  std::vector<AffineParams> params_;
  std::set<std::pair<int, int>> requant_;  // (op, input) pairs that get a requantizing QUANTIZE
  Graph q_;
  std::vector<Home> home_;
  std::vector<Op> ops_;
  std::map<int, int> as_int8_, as_float_;
  std::vector<std::string> notes_, float_ops_;
  std::vector<float> limits_ = std::vector<float>(g_.tensors.size(), 0.0f);  // QuantizedGraph::range_limits
  int requantized_ = 0;
};

}  // namespace

QuantizedGraph quantize_graph(const Graph& prepared, const Calibrator& calibrator,
                              const QuantizeOptions& options) {
  return Quantizer(prepared, calibrator, options).run();
}

}  // namespace osprey::quant
