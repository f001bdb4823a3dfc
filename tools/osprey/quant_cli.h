// What `osprey quantize` and `osprey compare` share: a model's zoo spec, how
// images become its input, and the accuracy report as JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "graph/tensor.h"
#include "quant/calibration.h"
#include "quant/metrics.h"
#include "vision/model_metadata.h"

namespace osprey::cli {

// The model's task metadata in zoo/models.json (entry `name`, else the file's
// stem), when it has some; an unknown --spec `name` is an error.
std::optional<vision::ModelSpec> find_model_spec(const std::string& model_path, const std::string& name);

// How images become `input`: the spec's size, pixel range and fitting, or the
// tensor's size with --input-range `range`; nothing when neither applies.
std::optional<quant::InputRecipe> input_recipe(const Tensor& input,
                                               const std::optional<vision::ModelSpec>& spec,
                                               const std::string& range, const std::string& resize);

// samples, outputs (metrics; "within" for outputs the head clamps),
// detections, mask_iou and per-layer metrics, as far as the report has them.
nlohmann::json accuracy_json(const quant::ComparisonReport& report);

}  // namespace osprey::cli
