#include "onnx/model_reader.h"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <charconv>

#include "core/child_process.h"
#include "core/error.h"
#include "core/limits.h"
#include "onnx/constant.h"

namespace osprey::onnx {

namespace {

// How long libonnx's checker and inference may take (milliseconds for real
// models): a model that makes them loop is an error, not a hang.
constexpr std::chrono::seconds kLibonnxSeconds{60};

bool is_default_domain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx";
}

// Fixes the dynamic dimensions of the graph inputs from --input-shape; a
// dimension still unknown afterwards is an error naming the input.
void fix_input_shapes(::onnx::GraphProto& graph, const ImportOptions& options) {
  std::vector<bool> used(options.input_shapes.size(), false);
  for (auto& input : *graph.mutable_input()) {
    bool is_initializer = false;
    for (const auto& init : graph.initializer()) is_initializer |= init.name() == input.name();
    if (is_initializer) continue;  // IR < 4: initializers may be listed as inputs
    OSPREY_CHECK(input.type().has_tensor_type(), "input '{}' is not a tensor", input.name());
    // No shape at all (not even a rank) is not a scalar: the shape must be given.
    bool shaped = input.type().tensor_type().has_shape();
    auto* shape = input.mutable_type()->mutable_tensor_type()->mutable_shape();
    for (size_t i = 0; i < options.input_shapes.size(); ++i) {
      const InputShape& given = options.input_shapes[i];
      if (given.name != input.name()) continue;
      used[i] = true;
      if (!shaped) {
        for (size_t d = 0; d < given.dims.size(); ++d) shape->add_dim();
        shaped = true;
      }
      OSPREY_CHECK(static_cast<int>(given.dims.size()) == shape->dim_size(),
                   "--input-shape {}: the model's input has rank {}, {} dimensions given", given.name,
                   shape->dim_size(), given.dims.size());
      for (int d = 0; d < shape->dim_size(); ++d) {
        const int64_t v = given.dims[static_cast<size_t>(d)];
        auto* dim = shape->mutable_dim(d);
        OSPREY_CHECK(!dim->has_dim_value() || dim->dim_value() == v,
                     "--input-shape {}: dimension {} is fixed to {} by the model, {} given", given.name, d,
                     dim->dim_value(), v);
        dim->set_dim_value(v);
      }
    }
    OSPREY_CHECK(shaped, "input '{}' has no shape: give it with --input-shape {}:D0,D1,...", input.name(),
                 input.name());
    Shape dims;
    for (int d = 0; d < shape->dim_size(); ++d) {
      const auto& dim = shape->dim(d);
      OSPREY_CHECK(
          dim.has_dim_value(),
          "input '{}' has a dynamic dimension {} ('{}'): give its full shape with --input-shape {}:...",
          input.name(), d, dim.dim_param(), input.name());
      OSPREY_CHECK(dim.dim_value() > 0 && dim.dim_value() <= limits::kMaxDimension,
                   "input '{}' has dimension {} = {}, out of range", input.name(), d, dim.dim_value());
      dims.push_back(static_cast<int32_t>(dim.dim_value()));
    }
    OSPREY_CHECK(static_cast<int>(dims.size()) <= limits::kMaxRank, "input '{}' has rank {}, above {}",
                 input.name(), dims.size(), limits::kMaxRank);
    limits::checked_elements(dims, fmt::format("input '{}'", input.name()), true);
  }
  for (size_t i = 0; i < used.size(); ++i) {
    OSPREY_CHECK(used[i], "--input-shape {}: the model has no input of that name",
                 options.input_shapes[i].name);
  }
}

// libonnx's own shape inference trusts what it divides by and indexes with:
// a stride of 0 made it divide by zero and a ConvTranspose weight of rank 0
// made it read past the weight's shape (both found by fuzzing). Those are
// checked here first: window attributes must be positive, and a
// ConvTranspose weight whose rank is declared (a graph input or an
// initializer) must have the input's rank, at least 3.
void check_before_shape_inference(const ::onnx::GraphProto& graph) {
  auto declared_rank = [&](const std::string& name) -> int {
    for (const auto& t : graph.initializer()) {
      if (t.name() == name) return t.dims_size();
    }
    for (const auto& v : graph.input()) {
      if (v.name() == name && v.type().tensor_type().has_shape())
        return v.type().tensor_type().shape().dim_size();
    }
    return -1;
  };
  for (const auto& node : graph.node()) {
    for (const auto& a : node.attribute()) {
      if (a.name() == "strides" || a.name() == "dilations" || a.name() == "kernel_shape") {
        for (int64_t v : a.ints()) {
          OSPREY_CHECK(v >= 1, "{} '{}': {} has {}, expected values >= 1", node.op_type(), node.name(),
                       a.name(), v);
        }
      } else if (a.name() == "group") {
        OSPREY_CHECK(a.i() >= 1, "{} '{}': group {}, expected >= 1", node.op_type(), node.name(), a.i());
      }
    }
    if (node.op_type() != "ConvTranspose" || node.input_size() < 2) continue;
    const int x = declared_rank(node.input(0)), w = declared_rank(node.input(1));
    OSPREY_CHECK(w < 0 || (w >= 3 && (x < 0 || x == w)),
                 "ConvTranspose '{}': weight '{}' has rank {}, expected {} (the input's rank, at least 3)",
                 node.name(), node.input(1), w, x < 0 ? 3 : x);
  }
}

}  // namespace

int64_t default_opset(const ::onnx::ModelProto& model) {
  for (const auto& o : model.opset_import()) {
    if (is_default_domain(o.domain())) return o.version();
  }
  return 0;
}

::onnx::ModelProto read_model(std::span<const uint8_t> bytes, const std::string& model_dir,
                              const ImportOptions& options) {
  OSPREY_CHECK(!bytes.empty(), "file is empty");
  OSPREY_CHECK(bytes.size() < kMaxOnnxBytes, "file is {} bytes, above the 2 GiB an ONNX model can be",
               bytes.size());
  ::onnx::ModelProto model;
  google::protobuf::io::CodedInputStream stream(bytes.data(), static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(static_cast<int>(kMaxOnnxBytes - 1));
  stream.SetRecursionLimit(64);  // subgraphs nest; a real model stays far below
  OSPREY_CHECK(model.ParseFromCodedStream(&stream) && stream.ConsumedEntireMessage(),
               "not an ONNX model (the protobuf does not parse)");
  OSPREY_CHECK(model.has_graph(), "the ONNX model has no graph");

  const int64_t opset = default_opset(model);
  OSPREY_CHECK(opset > 0, "the model imports no default-domain (ai.onnx) opset");
  OSPREY_CHECK(opset <= kMaxOpset, "opset {} is not supported (osprey reads opsets up to {})", opset,
               kMaxOpset);
  for (const auto& o : model.opset_import()) {
    OSPREY_CHECK(is_default_domain(o.domain()), "operator domain '{}' is not supported (only ai.onnx)",
                 o.domain());
  }
  OSPREY_CHECK(model.graph().node_size() > 0, "the ONNX graph has no nodes");

  fix_input_shapes(*model.mutable_graph(), options);
  // libonnx's checker looks external data up from the working directory: osprey checks
  // the locations against the model's folder itself and shows the checker the rest.
  bool external = false;
  for (const auto& t : model.graph().initializer()) {
    if (t.data_location() != ::onnx::TensorProto::EXTERNAL) continue;
    check_external_location(t, model_dir);
    external = true;
  }
  ::onnx::ModelProto stripped;
  if (external) {
    stripped = model;
    for (auto& t : *stripped.mutable_graph()->mutable_initializer()) {
      if (t.data_location() != ::onnx::TensorProto::EXTERNAL) continue;
      t.clear_external_data();
      t.set_data_location(::onnx::TensorProto::DEFAULT);
      t.clear_dims();
      t.add_dims(0);  // an empty tensor: the checker needs no values
    }
  }
  check_before_shape_inference(model.graph());
  // libonnx's checker and shape inference trust the model in places (the
  // checks above guard the two crashes found first, fuzzing found more), so
  // they run in a child process: a crash there is an error here. The child
  // sends back what inference adds, the graph's value_info and outputs.
  // The op schemas are built on first use: in this process, once, not in every child.
  [[maybe_unused]] static const bool schemas_built = ::onnx::OpSchemaRegistry::Schema("Conv") != nullptr;
  const std::string inferred_bytes = run_in_child(
      [&] {
        try {
          ::onnx::checker::check_model(external ? stripped : model);
        } catch (const std::exception& e) {
          std::string what = e.what();
          fail("the ONNX checker rejects the model: {}", what.substr(0, what.find('\n')));
        }
        try {
          ::onnx::ShapeInferenceOptions inference{true, 1,
                                                  true};  // check types, fail on errors, propagate data
          ::onnx::shape_inference::InferShapes(model, ::onnx::OpSchemaRegistry::Instance(), inference);
        } catch (const std::exception& e) {
          std::string what = e.what();
          fail("ONNX shape inference fails: {}", what.substr(0, what.find('\n')));
        }
        ::onnx::GraphProto inferred;
        *inferred.mutable_value_info() = model.graph().value_info();
        *inferred.mutable_output() = model.graph().output();
        return inferred.SerializeAsString();
      },
      "libonnx's checker or shape inference", kLibonnxSeconds);
  ::onnx::GraphProto inferred;
  OSPREY_CHECK(
      inferred.ParseFromString(inferred_bytes) && inferred.output_size() == model.graph().output_size(),
      "libonnx's shape inference sent back a malformed graph");
  *model.mutable_graph()->mutable_value_info() = std::move(*inferred.mutable_value_info());
  *model.mutable_graph()->mutable_output() = std::move(*inferred.mutable_output());
  return model;
}

InputShape parse_input_shape(std::string_view spec) {
  const size_t colon = spec.rfind(':');
  OSPREY_CHECK(colon != std::string_view::npos && colon > 0 && colon + 1 < spec.size(),
               "--input-shape '{}': expected NAME:D0,D1,...", spec);
  InputShape s{std::string(spec.substr(0, colon)), {}};
  std::string_view rest = spec.substr(colon + 1);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    OSPREY_CHECK(ec == std::errc() && end == item.data() + item.size() && v > 0 && v <= limits::kMaxDimension,
                 "--input-shape '{}': '{}' is not a positive dimension", spec, item);
    s.dims.push_back(v);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
    OSPREY_CHECK(!rest.empty(), "--input-shape '{}': trailing comma", spec);
  }
  OSPREY_CHECK(static_cast<int>(s.dims.size()) <= limits::kMaxRank, "--input-shape '{}': rank above {}", spec,
               limits::kMaxRank);
  return s;
}

bool is_onnx_path(const std::string& path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

}  // namespace osprey::onnx
