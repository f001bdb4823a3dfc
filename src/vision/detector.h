// Runs a detection or segmentation model from the zoo on an image.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/interpreter.h"
#include "vision/detect_pipeline.h"

namespace osprey::vision {

struct StageTiming {
  double preprocess_ms = 0;
  double inference_ms = 0;
  double postprocess_ms = 0;
};

struct DetectResult {
  std::vector<Detection> detections;  // image pixels
  StageTiming timing;
};

struct SegmentResult {
  Image mask;  // 8-bit probability over the whole image
  StageTiming timing;
};

class VisionModel {
 public:
  // Loads the model file and checks it against its heads.json entry.
  // `options` picks the backend (see backends/backend.h); default: reference kernels.
  VisionModel(const std::string& model_path, ModelSpec spec, const InterpreterOptions& options = {});

  const ModelSpec& spec() const { return spec_; }
  DetectResult detect(const Image& image, std::optional<float> min_score = std::nullopt);
  SegmentResult segment(const Image& image);

 private:
  ModelSpec spec_;
  std::unique_ptr<Interpreter> interpreter_;
  std::vector<Anchor> anchors_;
};

}  // namespace osprey::vision
