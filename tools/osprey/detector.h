// A zoo detector ready to run on frame after frame: the model loaded once
// with its backends and the head that fits it (TFLite_Detection_PostProcess
// models keep their own, SSD-style models the manifest's DetectionHead),
// at the model's threshold or another. Shared by `detect` and `track`.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "backend_options.h"
#include "vision/heads/detection_head.h"
#include "vision/image.h"
#include "vision/pipeline.h"

namespace osprey::cli {

using DetectRun = vision::PipelineRun<vision::DetectionHead::Result>;

class Detector {
 public:
  // model: zoo NAME or .tflite path; spec: zoo entry ("" = the file's name);
  // threshold < 0: the model's own. Throws osprey::Error for a non-detector.
  Detector(const std::string& model, const std::string& spec, float threshold, const BackendChoice& backend);

  DetectRun run(const vision::Image& image);
  const vision::ModelSpec& spec() const { return pipeline_->spec(); }

 private:
  BackendStack backends_;  // outlives the pipeline's interpreter
  std::unique_ptr<vision::Pipeline> pipeline_;
  float threshold_;
};

// Pixel coordinates to one decimal, scores to four: enough for any use and
// keeps the JSON readable. Dividing (not multiplying by 0.1) gives the double
// nearest the decimal, which prints short.
double round_to(double value, int decimals);

// {"preprocess", "inference", "postprocess"} in milliseconds, to 3 decimals.
nlohmann::ordered_json timing_json(const vision::StageTiming& timing);

}  // namespace osprey::cli
