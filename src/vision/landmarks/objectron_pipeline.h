// MediaPipe's two-stage Objectron: a 2D detector (the OIDv4 SSD) finds the
// object's class, a square ROI around each detection goes to a 3D-box model
// (object_detection_3d_<object>), whose 9 keypoints (box centre + 8 corners,
// projected into the picture) come back in image pixels. On video the next
// frame's ROI comes from the keypoints and the detector reruns only while
// fewer objects than wanted are tracked, as in objectron_cpu.pbtxt.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/interpreter.h"
#include "vision/heads/box_landmark_head.h"
#include "vision/heads/detection_head.h"
#include "vision/image.h"
#include "vision/landmarks/landmark_pipeline.h"
#include "vision/pipeline.h"

namespace osprey::vision {

struct ObjectronOptions {
  std::string object = "cup";      // the zoo's object_detection_3d_<object>
  std::string model;               // zoo name or path; empty: from `object`
  std::string detector;            // zoo name or path; empty: the model's entry's
  int max_objects = 0;             // 0: the entry's (MediaPipe's default 5)
  float min_detection_score = -1;  // < 0: the entry's
  bool track = true;               // false: detect on every call (still images)
};

struct ObjectronFrame {
  LandmarkFrame frame;              // subjects' landmarks are the 9 box keypoints
  std::vector<std::string> labels;  // per subject: the detector class it was found as
};

// The objects the zoo has a 3D-box model for (camera, chair, cup, sneakers).
std::vector<std::string> objectron_objects();

class ObjectronPipeline {
 public:
  // One-line errors for an object the zoo lacks, a missing model or a model
  // that is not a 3D-box model.
  explicit ObjectronPipeline(const ObjectronOptions& options, const InterpreterOptions& interpreter = {});

  ObjectronFrame process(const Image& frame);
  void reset() { tracked_.clear(); }

  const BoxLandmarkHead& head() const { return *head_; }
  const ModelSpec& landmark_spec() const { return model_->spec(); }
  const ModelSpec& detector_spec() const { return detector_->spec(); }
  int max_objects() const { return max_objects_; }

  // The detector's boxes of this object's classes, unclipped, best first
  // (score threshold, label filter, class-agnostic NMS, at most max_objects).
  std::vector<Detection> detect(const Image& frame);

 private:
  struct Tracked {
    RotatedRect rect;  // the object's rect, before the ROI's enlargement
    std::string label;
  };

  int max_objects_ = 5;
  float min_detection_score_ = 0.5f;
  bool track_ = true;
  std::unique_ptr<Pipeline> detector_, model_;
  const BoxLandmarkHead* head_ = nullptr;
  const DetectionHead* detector_head_ = nullptr;
  std::vector<Tracked> tracked_;
};

}  // namespace osprey::vision
