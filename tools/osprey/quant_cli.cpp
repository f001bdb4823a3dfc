#include "quant_cli.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace osprey::cli {

std::optional<vision::ModelSpec> find_model_spec(const std::string& model_path, const std::string& name) {
  const std::string key = name.empty() ? vision::model_stem(model_path) : name;
  try {
    return vision::load_model_spec(vision::zoo_manifest_path(), key);
  } catch (const Error&) {
    OSPREY_CHECK(name.empty(), "--spec {}: no such model with a task head in the zoo's models.json", name);
    return std::nullopt;
  }
}

std::optional<quant::InputRecipe> input_recipe(const Tensor& input,
                                               const std::optional<vision::ModelSpec>& spec,
                                               const std::string& range, const std::string& resize) {
  quant::InputRecipe r;
  if (spec) {
    r.width = spec->input.width;
    r.height = spec->input.height;
    r.normalization = spec->input.normalization;
    r.resize = spec->input.resize;
  } else if (input.rank() == 4 && input.dim(3) == 3) {
    r.width = input.dim(2);
    r.height = input.dim(1);
  } else {
    return std::nullopt;
  }
  if (!range.empty()) {
    float lo = 0, hi = 0;
    char comma = 0;
    std::istringstream in(range);
    OSPREY_CHECK((in >> lo >> comma >> hi) && comma == ',' && lo < hi,
                 "--input-range '{}': expected LO,HI with LO < HI", range);
    r.normalization = {lo, hi};
  } else if (!spec) {
    return std::nullopt;
  }
  if (!resize.empty()) r.resize = vision::parse_resize_mode(resize);
  return r;
}

namespace {

nlohmann::json metrics_json(const quant::ErrorMetrics& m) {
  auto finite = [](double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(v > 0 ? "inf" : "-inf");
  };
  return {{"snr_db", finite(m.snr_db)},       {"cosine", m.cosine},
          {"max_abs_error", m.max_abs_error}, {"mean_abs_error", m.mean_abs_error},
          {"max_abs_float", m.ref_abs_max},   {"elements", m.count}};
}

}  // namespace

nlohmann::json accuracy_json(const quant::ComparisonReport& r) {
  nlohmann::json j;
  j["samples"] = r.samples;
  for (const quant::OutputReport& o : r.outputs) {
    nlohmann::json out = {{"name", o.name}, {"metrics", metrics_json(o.metrics)}};
    if (o.within > 0) out["within"] = o.within;
    j["outputs"].push_back(out);
  }
  if (r.detections) {
    j["detections"] = {{"float", r.detections->reference},
                       {"found", r.detections->found},
                       {"quantized", r.detections->test},
                       {"mean_iou", r.detections->mean_iou}};
  }
  if (r.mask_iou) j["mask_iou"] = *r.mask_iou;
  for (const quant::LayerReport& l : r.layers) {
    j["layers"].push_back(
        {{"op", l.op_index}, {"kind", l.op}, {"tensor", l.tensor}, {"metrics", metrics_json(l.metrics)}});
  }
  return j;
}

}  // namespace osprey::cli
