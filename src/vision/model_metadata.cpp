// Reads zoo/heads.json. Field names follow MediaPipe's calculator options
// (SsdAnchorsCalculatorOptions, TensorsToDetectionsCalculatorOptions,
// NonMaxSuppressionCalculatorOptions) so entries can be checked against the
// published graph configs.
#include "vision/model_metadata.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "vision/image_io.h"

namespace osprey::vision {
namespace {

using nlohmann::json;

// Wraps nlohmann's type errors with the path of the field being read.
class Reader {
 public:
  Reader(const json& node, std::string path) : node_(node), path_(std::move(path)) {}

  bool has(const char* key) const { return node_.contains(key); }
  Reader child(const char* key) const {
    OSPREY_CHECK(node_.contains(key), "{}: missing field '{}'", path_, key);
    const json& c = node_.at(key);
    OSPREY_CHECK(c.is_object(), "{}.{}: expected an object", path_, key);
    return Reader(c, path_ + "." + key);
  }

  template <typename T>
  T get(const char* key) const {
    OSPREY_CHECK(node_.contains(key), "{}: missing field '{}'", path_, key);
    return convert<T>(node_.at(key), key);
  }
  template <typename T>
  T get(const char* key, T fallback) const {
    return node_.contains(key) ? convert<T>(node_.at(key), key) : fallback;
  }

 private:
  template <typename T>
  T convert(const json& value, const char* key) const {
    try {
      return value.get<T>();
    } catch (const json::exception& e) {
      fail("{}.{}: {}", path_, key, e.what());
    }
  }

  const json& node_;
  std::string path_;
};

SsdAnchorOptions parse_anchors(const Reader& r) {
  SsdAnchorOptions o;
  o.input_width = r.get<int>("input_size_width");
  o.input_height = r.get<int>("input_size_height");
  o.num_layers = r.get<int>("num_layers");
  o.min_scale = r.get<float>("min_scale");
  o.max_scale = r.get<float>("max_scale");
  o.strides = r.get<std::vector<int>>("strides");
  o.aspect_ratios = r.get<std::vector<float>>("aspect_ratios");
  o.anchor_offset_x = r.get<float>("anchor_offset_x", 0.5f);
  o.anchor_offset_y = r.get<float>("anchor_offset_y", 0.5f);
  o.reduce_boxes_in_lowest_layer = r.get<bool>("reduce_boxes_in_lowest_layer", false);
  o.interpolated_scale_aspect_ratio = r.get<float>("interpolated_scale_aspect_ratio", 1.0f);
  o.fixed_anchor_size = r.get<bool>("fixed_anchor_size", false);
  return o;
}

ScoreActivation parse_activation(const std::string& name) {
  if (name == "sigmoid") return ScoreActivation::kSigmoid;
  if (name == "softmax") return ScoreActivation::kSoftmax;
  if (name == "none") return ScoreActivation::kNone;
  fail("unknown score activation '{}' (expected sigmoid, softmax or none)", name);
}

BoxDecoderOptions parse_decoder(const Reader& r) {
  BoxDecoderOptions o;
  o.num_classes = r.get<int>("num_classes");
  o.num_boxes = r.get<int>("num_boxes");
  o.num_coords = r.get<int>("num_coords");
  o.box_coord_offset = r.get<int>("box_coord_offset", 0);
  o.keypoint_coord_offset = r.get<int>("keypoint_coord_offset", 0);
  o.num_keypoints = r.get<int>("num_keypoints", 0);
  o.num_values_per_keypoint = r.get<int>("num_values_per_keypoint", 2);
  o.x_scale = r.get<float>("x_scale");
  o.y_scale = r.get<float>("y_scale");
  o.w_scale = r.get<float>("w_scale");
  o.h_scale = r.get<float>("h_scale");
  o.apply_exponential_on_box_size = r.get<bool>("apply_exponential_on_box_size", false);
  o.reverse_output_order = r.get<bool>("reverse_output_order", false);
  o.activation = parse_activation(r.get<std::string>("score_activation", "sigmoid"));
  o.score_clipping_thresh = r.get<float>("score_clipping_thresh", 0.0f);
  o.min_score_thresh = r.get<float>("min_score_thresh", 0.5f);
  o.ignore_classes = r.get<std::vector<int>>("ignore_classes", {});
  validate(o);
  return o;
}

NmsOptions parse_nms(const Reader& r) {
  NmsOptions o;
  const auto algorithm = r.get<std::string>("algorithm", "hard");
  if (algorithm == "weighted") {
    o.algorithm = NmsAlgorithm::kWeighted;
  } else if (algorithm == "hard") {
    o.algorithm = NmsAlgorithm::kHard;
  } else {
    fail("unknown NMS algorithm '{}' (expected hard or weighted)", algorithm);
  }
  o.iou_threshold = r.get<float>("min_suppression_threshold");
  o.per_class = r.get<bool>("per_class", false);
  o.max_detections = r.get<int>("max_num_detections", -1);
  return o;
}

ModelSpec parse_spec(const std::string& name, const json& entry) {
  OSPREY_CHECK(entry.is_object(), "{}: expected an object", name);
  const Reader r(entry, name);
  ModelSpec spec;
  spec.name = name;
  spec.task = r.get<std::string>("task");
  const Reader in = r.child("input");
  spec.input.width = in.get<int>("width");
  spec.input.height = in.get<int>("height");
  OSPREY_CHECK(
      spec.input.width > 0 && spec.input.height > 0 && spec.input.width <= 8192 && spec.input.height <= 8192,
      "{}.input: size {}x{} is invalid", name, spec.input.width, spec.input.height);
  const auto range = in.get<std::vector<float>>("range");
  OSPREY_CHECK(range.size() == 2, "{}.input.range: expected [lo, hi]", name);
  spec.input.normalization = {range[0], range[1]};
  spec.input.resize = parse_resize_mode(in.get<std::string>("resize", "stretch"));
  spec.labels = r.get<std::vector<std::string>>("labels", {});
  spec.keypoint_names = r.get<std::vector<std::string>>("keypoint_names", {});

  if (r.has("decoder")) {
    DetectionHead head;
    if (r.has("outputs")) {
      const Reader outputs = r.child("outputs");
      head.boxes_output = outputs.get<int>("boxes", 0);
      head.scores_output = outputs.get<int>("scores", 1);
    }
    head.anchors = parse_anchors(r.child("anchors"));
    head.decoder = parse_decoder(r.child("decoder"));
    head.nms = parse_nms(r.child("nms"));
    spec.detection = std::move(head);
  }
  if (r.has("segmentation")) {
    const Reader s = r.child("segmentation");
    SegmentationHead head;
    head.output = s.get<int>("output", 0);
    const auto activation = s.get<std::string>("activation", "none");
    OSPREY_CHECK(activation == "none" || activation == "sigmoid",
                 "{}.segmentation.activation: '{}' (expected none or sigmoid)", name, activation);
    head.activation = activation == "sigmoid" ? MaskActivation::kSigmoid : MaskActivation::kNone;
    head.threshold = s.get<float>("threshold", 0.5f);
    spec.segmentation = head;
  }
  return spec;
}

json parse_json(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    fail("{}: invalid JSON: {}", what, e.what());
  }
}

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

}  // namespace

std::string ModelSpec::label(int class_id) const {
  if (class_id >= 0 && static_cast<size_t>(class_id) < labels.size())
    return labels[static_cast<size_t>(class_id)];
  return fmt::format("class {}", class_id);
}

ModelSpec parse_model_spec(const std::string& name, const std::string& json_text) {
  return parse_spec(name, parse_json(json_text, name));
}

ModelSpec load_model_spec(const std::string& heads_json_path, const std::string& name) {
  const std::vector<uint8_t> bytes = read_file_bytes(heads_json_path);
  const json all = parse_json(std::string(bytes.begin(), bytes.end()), heads_json_path);
  OSPREY_CHECK(all.is_object(), "{}: expected an object keyed by model name", heads_json_path);
  OSPREY_CHECK(all.contains(name), "no task metadata for model '{}' in {}", name, heads_json_path);
  try {
    return parse_spec(name, all.at(name));
  } catch (const Error& e) {
    fail("{}: {}", heads_json_path, e.what());
  }
}

std::string zoo_dir() {
  std::string dir = env_or_empty("OSPREY_ZOO");
#ifdef OSPREY_ZOO_DIR
  if (dir.empty()) dir = OSPREY_ZOO_DIR;
#endif
  OSPREY_CHECK(!dir.empty(), "cannot find the model zoo: set OSPREY_ZOO to the zoo/ directory");
  return dir;
}

std::string cache_dir() {
  std::string dir = env_or_empty("OSPREY_CACHE");
  if (!dir.empty()) return dir;
  const std::string home = env_or_empty("HOME");
  OSPREY_CHECK(!home.empty(), "neither OSPREY_CACHE nor HOME is set");
  return home + "/.cache/osprey";
}

std::string resolve_model_path(const std::string& name_or_path) {
  OSPREY_CHECK(!name_or_path.empty(), "empty model name");
  const bool is_path = name_or_path.find('/') != std::string::npos ||
                       std::filesystem::path(name_or_path).extension() == ".tflite";
  const std::string path = is_path ? name_or_path : cache_dir() + "/models/" + name_or_path + ".tflite";
  std::error_code ec;
  OSPREY_CHECK(std::filesystem::is_regular_file(path, ec), "model '{}' not found at {}{}", name_or_path, path,
               is_path ? "" : " (fetch the zoo first: node zoo/fetch.mjs)");
  return path;
}

std::string model_stem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

}  // namespace osprey::vision
