#include "detector.h"

#include <cmath>

#include "core/error.h"
#include "vision/heads/postprocess_head.h"
#include "vision/heads/segmentation_head.h"
#include "vision/model_metadata.h"

namespace osprey::cli {

Detector::Detector(const std::string& model, const std::string& spec, float threshold,
                   const BackendChoice& backend)
    : threshold_(threshold) {
  const std::string model_path = vision::resolve_model_path(model);
  vision::ModelSpec loaded = vision::load_model_spec(vision::zoo_manifest_path(),
                                                     spec.empty() ? vision::model_stem(model_path) : spec);
  // A model ending in TFLite_Detection_PostProcess has that head whatever its manifest says.
  if (!loaded.find_head<vision::PostprocessHead>())
    OSPREY_CHECK(loaded.find_head<vision::DetectionHead>() != nullptr,
                 "model '{}' is a {} model; detect needs a detector{}", loaded.name, loaded.task,
                 loaded.find_head<vision::SegmentationHead>() ? " (try `osprey segment`)" : "");
  backends_ = backend.make();
  pipeline_ = std::make_unique<vision::Pipeline>(model_path, std::move(loaded), backends_.options());
}

DetectRun Detector::run(const vision::Image& image) {
  const vision::ModelSpec& loaded = pipeline_->spec();
  if (const auto* own = loaded.find_head<vision::PostprocessHead>())
    return threshold_ >= 0 ? pipeline_->run(image, own->with_min_score(threshold_))
                           : pipeline_->run(image, *own);
  const vision::DetectionHead& head = loaded.head_as<vision::DetectionHead>();
  return threshold_ >= 0 ? pipeline_->run(image, head.with_min_score(threshold_))
                         : pipeline_->run(image, head);
}

double round_to(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

nlohmann::ordered_json timing_json(const vision::StageTiming& timing) {
  return {{"preprocess", round_to(timing.preprocess_ms, 3)},
          {"inference", round_to(timing.inference_ms, 3)},
          {"postprocess", round_to(timing.postprocess_ms, 3)}};
}

}  // namespace osprey::cli
