// `osprey detect IMAGE`: run an SSD-style detector from the zoo on a picture,
// print the detections (table or JSON) and optionally draw them.
#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "backend_options.h"
#include "commands.h"
#include "core/error.h"
#include "vision/draw.h"
#include "vision/heads/detection_head.h"
#include "vision/heads/postprocess_head.h"
#include "vision/heads/segmentation_head.h"
#include "vision/image_io.h"
#include "vision/model_metadata.h"
#include "vision/pipeline.h"

namespace osprey::cli {
namespace {

using DetectRun = vision::PipelineRun<vision::DetectionHead::Result>;

struct DetectOptions {
  std::string image;
  BackendChoice backend;
  std::string model = "face_detection_short_range";
  std::string spec;      // zoo entry for input and labels; empty: the model file's name
  float threshold = -1;  // < 0: the model's own min_score_thresh
  bool json = false;
  std::string out;
};

// Pixel coordinates to one decimal, scores to four: enough for any use and
// keeps the JSON readable. Dividing (not multiplying by 0.1) gives the double
// nearest the decimal, which prints short.
double round_to(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

nlohmann::ordered_json to_json(const vision::ModelSpec& spec, const vision::Image& image,
                               const DetectRun& result) {
  nlohmann::ordered_json detections = nlohmann::ordered_json::array();
  for (const vision::Detection& d : result.output) {
    nlohmann::ordered_json keypoints = nlohmann::ordered_json::array();
    for (const vision::Point& p : d.keypoints) keypoints.push_back({round_to(p.x, 1), round_to(p.y, 1)});
    detections.push_back({{"label", spec.label(d.class_id)},
                          {"score", round_to(d.score, 4)},
                          {"box",
                           {round_to(d.box.xmin, 1), round_to(d.box.ymin, 1), round_to(d.box.xmax, 1),
                            round_to(d.box.ymax, 1)}},
                          {"keypoints", keypoints}});
  }
  return {{"model", spec.name},
          {"image", {{"width", image.width}, {"height", image.height}}},
          {"detections", detections},
          {"timing_ms",
           {{"preprocess", round_to(result.timing.preprocess_ms, 3)},
            {"inference", round_to(result.timing.inference_ms, 3)},
            {"postprocess", round_to(result.timing.postprocess_ms, 3)}}}};
}

void print_table(const vision::ModelSpec& spec, const DetectOptions& options, const vision::Image& image,
                 const DetectRun& result) {
  fmt::print("{}: {}x{}, model {} ({})\n", options.image, image.width, image.height, spec.name, spec.task);
  if (result.output.empty()) {
    fmt::print("no detections\n");
  } else {
    fmt::print("{:>3}  {:<16} {:>6}  {:>8} {:>8} {:>8} {:>8}  {}\n", "#", "label", "score", "x0", "y0", "x1",
               "y1", "keypoints");
    int index = 1;
    for (const vision::Detection& d : result.output) {
      std::string keypoints;
      for (const vision::Point& p : d.keypoints) keypoints += fmt::format(" ({:.0f},{:.0f})", p.x, p.y);
      fmt::print("{:>3}  {:<16} {:>6.3f}  {:>8.1f} {:>8.1f} {:>8.1f} {:>8.1f} {}\n", index++,
                 spec.label(d.class_id), d.score, d.box.xmin, d.box.ymin, d.box.xmax, d.box.ymax, keypoints);
    }
  }
  fmt::print("time: preprocess {:.1f} ms, inference {:.1f} ms, postprocess {:.1f} ms\n",
             result.timing.preprocess_ms, result.timing.inference_ms, result.timing.postprocess_ms);
}

void run_detect(const DetectOptions& options) {
  const std::string model_path = vision::resolve_model_path(options.model);
  vision::ModelSpec spec = vision::load_model_spec(
      vision::zoo_manifest_path(), options.spec.empty() ? vision::model_stem(model_path) : options.spec);
  const vision::Image image = vision::read_image(options.image);
  const BackendStack backends = options.backend.make();
  const InterpreterOptions interpreter_options = backends.options();
  vision::Pipeline model(model_path, std::move(spec), interpreter_options);
  const vision::ModelSpec& loaded = model.spec();
  // A model ending in TFLite_Detection_PostProcess has that head whatever its manifest says.
  DetectRun result;
  if (const auto* own = loaded.find_head<vision::PostprocessHead>()) {
    result = options.threshold >= 0 ? model.run(image, own->with_min_score(options.threshold))
                                    : model.run(image, *own);
  } else {
    OSPREY_CHECK(loaded.find_head<vision::DetectionHead>() != nullptr,
                 "model '{}' is a {} model; detect needs a detector{}", loaded.name, loaded.task,
                 loaded.find_head<vision::SegmentationHead>() ? " (try `osprey segment`)" : "");
    const vision::DetectionHead& head = loaded.head_as<vision::DetectionHead>();
    result = options.threshold >= 0 ? model.run(image, head.with_min_score(options.threshold))
                                    : model.run(image, head);
  }

  if (!options.out.empty()) {
    std::vector<vision::LabelledDetection> items;
    for (const vision::Detection& d : result.output) items.push_back({d, model.spec().label(d.class_id)});
    vision::write_png(options.out, vision::annotate_detections(image, items));
  }
  if (options.json) {
    fmt::print("{}\n", to_json(model.spec(), image, result).dump());
  } else {
    print_table(model.spec(), options, image, result);
    if (!options.out.empty()) fmt::print("wrote {}\n", options.out);
  }
}

}  // namespace

void add_detect_command(CLI::App& app) {
  auto options = std::make_shared<DetectOptions>();
  CLI::App* cmd = app.add_subcommand("detect", "Detect faces or objects in a JPEG/PNG image");
  cmd->add_option("image", options->image, "image file (JPEG or PNG)")->required();
  options->backend.add_options(cmd);
  cmd->add_option("-m,--model", options->model,
                  "zoo model NAME ($OSPREY_CACHE/models/NAME.tflite) or path to a .tflite file")
      ->capture_default_str();
  cmd->add_option("--spec", options->spec,
                  "zoo entry giving the input preparation and labels (default: the model file's name)");
  cmd->add_option("-t,--threshold", options->threshold, "minimum score (default: the model's own)")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_flag("--json", options->json, "print one JSON object instead of a table");
  cmd->add_option("-o,--out", options->out, "write the picture with the detections drawn (PNG)");
  cmd->callback([options] { run_detect(*options); });
}

}  // namespace osprey::cli
