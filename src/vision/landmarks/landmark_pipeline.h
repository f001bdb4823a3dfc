// The two-stage landmark pipelines (face-mesh, hands, pose) as MediaPipe runs
// them: detector -> rotated ROI -> landmark model -> landmarks in image pixels.
// Between calls it keeps the ROIs derived from the last landmarks, so on video
// the detector reruns only when fewer subjects than wanted are tracked (a
// landmark model's presence score below its threshold drops the subject).
// A video loop calls process(frame) for each frame; one image is one call.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/interpreter.h"
#include "vision/heads/detection_head.h"
#include "vision/heads/landmark_head.h"
#include "vision/image.h"
#include "vision/pipeline.h"

namespace osprey::vision {

struct LandmarkPipelineOptions {
  std::string pipeline = "face-mesh";  // face-mesh | hands | pose
  std::string landmark_model;          // zoo name or path; empty: the pipeline's
  std::string detector;                // zoo name or path; empty: the landmark head's
  int max_subjects = 0;                // 0: the pipeline's default (1 face, 2 hands, 1 person)
  float min_detection_score = -1;      // < 0: the detector's own threshold
  bool track = true;                   // false: detect on every call (still images)
};

struct LandmarkSubject {
  LandmarkResult result;  // landmarks in image pixels
  RotatedRect roi;        // where the landmark model looked
  Box box;                // bounds of the reported landmarks
  bool tracked = false;   // the ROI came from the previous call's landmarks
};

struct LandmarkTiming {
  double detector_ms = 0;   // 0 when the detector did not run
  double landmarks_ms = 0;  // all subjects
  double total_ms = 0;
};

struct LandmarkFrame {
  std::vector<LandmarkSubject> subjects;  // present subjects, detection order
  bool detector_ran = false;
  LandmarkTiming timing;
};

// The pipeline names, for help and errors.
std::vector<std::string> landmark_pipeline_names();

class LandmarkPipeline {
 public:
  // Loads both models and their zoo entries; a one-line error for an unknown
  // pipeline, a missing model or a landmark model that is no such model.
  explicit LandmarkPipeline(const LandmarkPipelineOptions& options,
                            const InterpreterOptions& interpreter = {});

  LandmarkFrame process(const Image& frame);
  // Forgets the tracked ROIs (a new clip, a scene cut).
  void reset() { tracked_.clear(); }

  const std::string& name() const { return name_; }
  int max_subjects() const { return max_subjects_; }
  const LandmarkHead& head() const { return *head_; }
  const ModelSpec& landmark_spec() const { return landmarks_->spec(); }
  const ModelSpec& detector_spec() const { return detector_->spec(); }

 private:
  std::vector<Detection> detect(const Image& frame);

  std::string name_;
  int max_subjects_ = 1;
  bool track_ = true;
  std::unique_ptr<Pipeline> detector_, landmarks_;
  const LandmarkHead* head_ = nullptr;
  std::optional<DetectionHead> detector_head_;  // with --min-detection-score applied
  std::vector<RotatedRect> tracked_;
};

}  // namespace osprey::vision
