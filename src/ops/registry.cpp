#include "ops/registry.h"

#include <algorithm>
#include <map>
#include <string>

namespace osprey::ops {

namespace {

struct Registry {
  std::vector<OpDef> defs;
  std::map<int32_t, size_t> builtin;
  std::map<std::string, size_t, std::less<>> custom;
};

const Registry& registry() {
  static const Registry r = [] {
    Registry reg;
    for (auto family : {conv_ops(), elementwise_ops(), activation_ops(), layout_ops(), misc_ops(),
                        detection_ops(), mediapipe_ops()})
      reg.defs.insert(reg.defs.end(), family.begin(), family.end());
    std::stable_sort(reg.defs.begin(), reg.defs.end(), [](const OpDef& a, const OpDef& b) {
      const bool ca = a.code == static_cast<int32_t>(OpCode::kCustom);
      const bool cb = b.code == static_cast<int32_t>(OpCode::kCustom);
      if (ca != cb) return cb;
      return ca ? a.custom_name < b.custom_name : a.code < b.code;
    });
    for (size_t i = 0; i < reg.defs.size(); ++i) {
      const OpDef& d = reg.defs[i];
      // A second definition of an op is a programming error, caught by every test run.
      const bool fresh = d.code == static_cast<int32_t>(OpCode::kCustom)
                             ? reg.custom.emplace(std::string(d.custom_name), i).second
                             : reg.builtin.emplace(d.code, i).second;
      OSPREY_CHECK(fresh, "op {} is defined twice in the op registry", d.name);
    }
    return reg;
  }();
  return r;
}

}  // namespace

const OpDef* find_op(int32_t code, std::string_view custom_name) {
  const Registry& r = registry();
  if (code == static_cast<int32_t>(OpCode::kCustom)) {
    auto it = r.custom.find(custom_name);
    return it == r.custom.end() ? nullptr : &r.defs[it->second];
  }
  auto it = r.builtin.find(code);
  return it == r.builtin.end() ? nullptr : &r.defs[it->second];
}

const OpDef* find_op(const Op& op) {
  return find_op(op.code, op.custom_code);
}

std::span<const OpDef> all_ops() {
  return registry().defs;
}

OpOptions parse_options(int32_t code, std::string_view custom_name, const RawOptions& raw) {
  const OpDef* def = find_op(code, custom_name);
  if (def && def->parse) return def->parse(raw);
  return std::monostate{};
}

namespace detail {

Padding padding(tfl::Padding p) {
  OSPREY_CHECK(p == tfl::Padding::SAME || p == tfl::Padding::VALID, "unknown padding {}",
               static_cast<int>(p));
  return static_cast<Padding>(p);
}

OpDef builtin_op(OpCode code, std::string_view name, OptionCodec options, Kernels kernels, QuantRule quant,
                 MacCounter macs, VersionRule version) {
  OpDef d;
  d.code = static_cast<int32_t>(code);
  d.name = name;
  d.parse = options.parse;
  d.write = options.write;
  d.float_kernel = kernels.float_kernel;
  d.integer_kernel = kernels.integer_kernel;
  d.quant = std::move(quant);
  d.macs = macs;
  d.version = version;
  return d;
}

bool has_type(const Graph& g, const std::vector<int>& tensors, DType type) {
  for (int t : tensors) {
    if (t >= 0 && g.tensors[static_cast<size_t>(t)].type == type) return true;
  }
  return false;
}

bool is_int8(const Graph& g, const Op& op) {
  return has_type(g, op.inputs, DType::kInt8) || has_type(g, op.outputs, DType::kInt8);
}

const Tensor& tensor(const Graph& g, int index) {
  return g.tensors[static_cast<size_t>(index)];
}

bool has_input(const Op& op, size_t i) {
  return i < op.inputs.size() && op.inputs[i] >= 0;
}

int64_t macs_none(const Graph&, const Op&) {
  return 0;
}

int64_t macs_per_input_element(const Graph& g, const Op& op) {
  return has_input(op, 0) ? tensor(g, op.inputs[0]).num_elements() : 0;
}

int version_2_for_int8(const Graph& g, const Op& op) {
  return is_int8(g, op) ? 2 : 1;
}

}  // namespace detail

}  // namespace osprey::ops
