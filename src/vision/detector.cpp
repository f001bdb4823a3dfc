// Glue between the Interpreter and the vision pre/post-processing.
#include "vision/detector.h"

#include <chrono>

#include "core/error.h"

namespace osprey::vision {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

VisionModel::VisionModel(const std::string& model_path, ModelSpec spec, const InterpreterOptions& options)
    : spec_(std::move(spec)), interpreter_(Interpreter::load(model_path, options)) {
  OSPREY_CHECK(interpreter_->num_inputs() >= 1, "model '{}' has no inputs", spec_.name);
  if (spec_.detection) {
    anchors_ = generate_ssd_anchors(spec_.detection->anchors);
    OSPREY_CHECK(anchors_.size() == static_cast<size_t>(spec_.detection->decoder.num_boxes),
                 "model '{}': anchor settings give {} anchors but num_boxes is {}", spec_.name,
                 anchors_.size(), spec_.detection->decoder.num_boxes);
  }
}

DetectResult VisionModel::detect(const Image& image, std::optional<float> min_score) {
  OSPREY_CHECK(spec_.detection.has_value(), "model '{}' is a {} model, not a detector", spec_.name,
               spec_.task);
  const DetectionHead& head = *spec_.detection;
  const int outputs = interpreter_->num_outputs();
  OSPREY_CHECK(head.boxes_output < outputs && head.scores_output < outputs,
               "model '{}' has {} outputs; its metadata wants outputs {} and {}", spec_.name, outputs,
               head.boxes_output, head.scores_output);
  DetectResult result;
  auto start = Clock::now();
  const InputTransform transform = prepare_input(image, spec_, interpreter_->input(0));
  result.timing.preprocess_ms = ms_since(start);

  start = Clock::now();
  interpreter_->invoke();
  result.timing.inference_ms = ms_since(start);

  start = Clock::now();
  result.detections = postprocess_detections(spec_, anchors_, interpreter_->output(head.boxes_output),
                                             interpreter_->output(head.scores_output), transform, min_score);
  result.timing.postprocess_ms = ms_since(start);
  return result;
}

SegmentResult VisionModel::segment(const Image& image) {
  OSPREY_CHECK(spec_.segmentation.has_value(), "model '{}' is a {} model, not a segmenter", spec_.name,
               spec_.task);
  const SegmentationHead& head = *spec_.segmentation;
  OSPREY_CHECK(head.output < interpreter_->num_outputs(), "model '{}' has no output {}", spec_.name,
               head.output);
  SegmentResult result;
  auto start = Clock::now();
  const InputTransform transform = prepare_input(image, spec_, interpreter_->input(0));
  result.timing.preprocess_ms = ms_since(start);

  start = Clock::now();
  interpreter_->invoke();
  result.timing.inference_ms = ms_since(start);

  start = Clock::now();
  result.mask =
      mask_to_image(mask_from_tensor(interpreter_->output(head.output), head.activation), transform);
  result.timing.postprocess_ms = ms_since(start);
  return result;
}

}  // namespace osprey::vision
