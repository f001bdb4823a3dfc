// A model's task metadata, read from its zoo/models.json entry: what it does,
// how its input is prepared and which head decodes its outputs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "vision/heads/head.h"
#include "vision/preprocess.h"

namespace osprey::vision {

struct InputSpec {
  int width = 0;
  int height = 0;
  Normalization normalization;
  ResizeMode resize = ResizeMode::kStretch;
};

struct ModelSpec {
  std::string name;  // model file stem, the entry's "name" in models.json
  std::string task;  // "face-detection", "object-detection", "segmentation", ...
  InputSpec input;
  std::vector<std::string> labels;  // by class id
  std::vector<std::string> keypoint_names;
  std::shared_ptr<const Head> head;  // never null in a parsed spec

  // Label of a class id, or "class N" when the model has no label for it.
  std::string label(int class_id) const;

  // The head when it is an H, else nullptr.
  template <typename H>
  const H* find_head() const {
    return dynamic_cast<const H*>(head.get());
  }
  // The head as an H; a one-line error when it is another kind.
  template <typename H>
  const H& head_as() const {
    const H* h = find_head<H>();
    OSPREY_CHECK(h != nullptr, "model '{}' is a {} model, its head is {} not {}", name, task,
                 head ? head->type() : "missing", H::kType);
    return *h;
  }
};

// Parses one model entry of models.json ({"name", "task", "head": {...}});
// throws osprey::Error naming the model and the bad field.
ModelSpec parse_model_spec(const std::string& name, const std::string& json_text);
// Looks `name` up in a models.json file.
ModelSpec load_model_spec(const std::string& manifest_path, const std::string& name);

// The zoo directory: $OSPREY_ZOO if set, else the OSPREY_ZOO_DIR the build
// bakes in (the source tree's zoo/). Throws when neither is available.
std::string zoo_dir();
// zoo_dir()/models.json, the manifest.
std::string zoo_manifest_path();
// $OSPREY_CACHE, else ~/.cache/osprey.
std::string cache_dir();
// A bare NAME means $OSPREY_CACHE/models/NAME.tflite (and must be there); a
// '/', a ".tflite" or ".onnx" ending, or a file of that name here makes it a
// path, returned as it is: opening it says why it cannot be read.
std::string resolve_model_path(const std::string& name_or_path);
// "dir/face_detection_short_range.tflite" -> "face_detection_short_range".
std::string model_stem(const std::string& path);

}  // namespace osprey::vision
