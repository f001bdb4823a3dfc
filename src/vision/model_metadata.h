// Per-model task metadata (zoo/heads.json): what a model does, how its input
// is prepared and how its outputs are decoded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vision/anchors.h"
#include "vision/box_decoder.h"
#include "vision/nms.h"
#include "vision/preprocess.h"
#include "vision/segmentation.h"

namespace osprey::vision {

struct InputSpec {
  int width = 0;
  int height = 0;
  Normalization normalization;
  ResizeMode resize = ResizeMode::kStretch;
};

// An SSD-style detector: anchors + box decoder + NMS.
struct DetectionHead {
  int boxes_output = 0;   // index of the [1, num_boxes, num_coords] output
  int scores_output = 1;  // index of the [1, num_boxes, num_classes] output
  SsdAnchorOptions anchors;
  BoxDecoderOptions decoder;
  NmsOptions nms;
};

struct SegmentationHead {
  int output = 0;
  MaskActivation activation = MaskActivation::kNone;
  float threshold = 0.5f;
};

struct ModelSpec {
  std::string name;  // model file stem, the key in heads.json
  std::string task;  // "face-detection", "object-detection", "segmentation", ...
  InputSpec input;
  std::vector<std::string> labels;  // by class id
  std::vector<std::string> keypoint_names;
  std::optional<DetectionHead> detection;
  std::optional<SegmentationHead> segmentation;

  // Label of a class id, or "class N" when the model has no label for it.
  std::string label(int class_id) const;
};

// Parses one model's entry; throws osprey::Error naming the bad field.
ModelSpec parse_model_spec(const std::string& name, const std::string& json_text);
// Looks `name` up in a heads.json file.
ModelSpec load_model_spec(const std::string& heads_json_path, const std::string& name);

// The zoo directory: $OSPREY_ZOO if set, else the OSPREY_ZOO_DIR the build
// bakes in (the source tree's zoo/). Throws when neither is available.
std::string zoo_dir();
// $OSPREY_CACHE, else ~/.cache/osprey.
std::string cache_dir();
// A bare NAME means $OSPREY_CACHE/models/NAME.tflite; anything with a '/' or
// ending in ".tflite" is a path.
std::string resolve_model_path(const std::string& name_or_path);
// "dir/face_detection_short_range.tflite" -> "face_detection_short_range".
std::string model_stem(const std::string& path);

}  // namespace osprey::vision
