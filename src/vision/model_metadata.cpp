// Reads a model's entry in zoo/models.json; the head's own parameters are
// parsed by the head registered for its "type" (heads/head_registry.cpp).
#include "vision/model_metadata.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "vision/image_io.h"
#include "vision/manifest_fields.h"

namespace osprey::vision {
namespace {

using nlohmann::json;

ModelSpec parse_spec(const std::string& name, const json& entry) {
  OSPREY_CHECK(entry.is_object(), "{}: expected an object", name);
  const ManifestFields r(entry, name);
  ModelSpec spec;
  spec.name = name;
  spec.task = r.get<std::string>("task");
  OSPREY_CHECK(r.has("head"), "no task metadata for model '{}' (its entry has no \"head\")", name);
  const ManifestFields head = r.child("head");
  const ManifestFields in = head.child("input");
  spec.input.width = in.get<int>("width");
  spec.input.height = in.get<int>("height");
  OSPREY_CHECK(
      spec.input.width > 0 && spec.input.height > 0 && spec.input.width <= 8192 && spec.input.height <= 8192,
      "{}: size {}x{} is invalid", in.path(), spec.input.width, spec.input.height);
  const auto range = in.get<std::vector<float>>("range");
  OSPREY_CHECK(range.size() == 2, "{}.range: expected [lo, hi]", in.path());
  spec.input.normalization = {range[0], range[1]};
  spec.input.resize = parse_resize_mode(in.get<std::string>("resize", "stretch"));
  spec.labels = head.get<std::vector<std::string>>("labels", {});
  spec.keypoint_names = head.get<std::vector<std::string>>("keypoint_names", {});
  spec.head = parse_head(head);
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

ModelSpec load_model_spec(const std::string& manifest_path, const std::string& name) {
  const std::vector<uint8_t> bytes = read_file_bytes(manifest_path);
  const json manifest = parse_json(std::string(bytes.begin(), bytes.end()), manifest_path);
  OSPREY_CHECK(manifest.is_object() && manifest.contains("models") && manifest.at("models").is_array(),
               "{}: expected an object with a \"models\" array", manifest_path);
  for (const json& entry : manifest.at("models")) {
    const bool match = entry.is_object() && entry.contains("name") && entry.at("name") == name;
    if (!match) continue;
    try {
      return parse_spec(name, entry);
    } catch (const Error& e) {
      fail("{}: {}", manifest_path, e.what());
    }
  }
  fail("no task metadata for model '{}' in {}", name, manifest_path);
}

std::string zoo_dir() {
  std::string dir = env_or_empty("OSPREY_ZOO");
#ifdef OSPREY_ZOO_DIR
  if (dir.empty()) dir = OSPREY_ZOO_DIR;
#endif
  OSPREY_CHECK(!dir.empty(), "cannot find the model zoo: set OSPREY_ZOO to the zoo/ directory");
  return dir;
}

std::string zoo_manifest_path() {
  return zoo_dir() + "/models.json";
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
  const std::filesystem::path given(name_or_path);
  std::error_code ec;
  if (name_or_path.find('/') != std::string::npos || given.extension() == ".tflite" ||
      given.extension() == ".onnx" || std::filesystem::is_regular_file(given, ec)) {
    return name_or_path;
  }
  const std::string path = cache_dir() + "/models/" + name_or_path + ".tflite";
  OSPREY_CHECK(std::filesystem::is_regular_file(path, ec),
               "model '{}' not found at {} (fetch the zoo first: node zoo/fetch.mjs)", name_or_path, path);
  return path;
}

std::string model_stem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

}  // namespace osprey::vision
