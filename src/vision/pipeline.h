// One model with its task head, run on a picture: preprocess (fit the image
// into the input tensor) -> invoke -> the head's decode -> result in image
// pixels, each stage timed. Serves `osprey detect`, `osprey segment` and any
// head registered in heads/head_registry.cpp.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "runtime/interpreter.h"
#include "vision/heads/head.h"
#include "vision/image.h"
#include "vision/landmarks/roi.h"
#include "vision/model_metadata.h"

namespace osprey::vision {

struct StageTiming {
  double preprocess_ms = 0, inference_ms = 0, postprocess_ms = 0;
};

template <typename Result>
struct PipelineRun {
  Result output;
  StageTiming timing;
};

class Pipeline {
 public:
  // Loads the model and checks it against its manifest entry (input size,
  // the outputs the head reads). `options` picks the backend.
  Pipeline(const std::string& model_path, ModelSpec spec, const InterpreterOptions& options = {});

  const ModelSpec& spec() const { return spec_; }

  // Runs the model's own head, which must be an H.
  template <typename H>
  PipelineRun<typename H::Result> run(const Image& image) {
    return run(image, spec_.head_as<H>());
  }
  // Runs on the region `roi` of the image, warped into the model input (no
  // letterbox), for heads that decode against a ROI (landmark models).
  template <typename H>
  PipelineRun<typename H::Result> run_on_roi(const Image& image, const RotatedRect& roi, const H& head) {
    PipelineRun<typename H::Result> result;
    infer_roi(image, roi, head.border(), result.timing);
    const auto start = std::chrono::steady_clock::now();
    result.output = head.decode(outputs(), roi);
    result.timing.postprocess_ms = milliseconds_since(start);
    return result;
  }
  // Runs with `head` in place of the manifest's (e.g. another threshold).
  template <typename H>
  PipelineRun<typename H::Result> run(const Image& image, const H& head) {
    PipelineRun<typename H::Result> result;
    const InputTransform geometry = infer(image, result.timing);
    const auto start = std::chrono::steady_clock::now();
    result.output = head.decode(outputs(), geometry);
    result.timing.postprocess_ms = milliseconds_since(start);
    return result;
  }

 private:
  static double milliseconds_since(std::chrono::steady_clock::time_point start);
  // Preprocess and invoke; returns how input pixels map back to the image.
  InputTransform infer(const Image& image, StageTiming& timing);
  void infer_roi(const Image& image, const RotatedRect& roi, BorderMode border, StageTiming& timing);
  ModelOutputs outputs();

  ModelSpec spec_;
  std::unique_ptr<Interpreter> interpreter_;
};

}  // namespace osprey::vision
