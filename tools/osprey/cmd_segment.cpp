// `osprey segment IMAGE --out mask.png`: run a segmentation model (selfie
// segmentation) and write the mask, optionally blended over the picture.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "backend_options.h"
#include "commands.h"
#include "core/error.h"
#include "vision/heads/detection_head.h"
#include "vision/heads/segmentation_head.h"
#include "vision/image_io.h"
#include "vision/model_metadata.h"
#include "vision/pipeline.h"
#include "vision/segmentation.h"

namespace osprey::cli {
namespace {

struct SegmentOptions {
  std::string image;
  BackendChoice backend;
  std::string model = "selfie_segmentation";
  std::string out;
  std::string overlay;
  float threshold = -1;  // < 0: the model's own threshold
  bool soft = false;
};

void run_segment(const SegmentOptions& options) {
  const std::string model_path = vision::resolve_model_path(options.model);
  vision::ModelSpec spec =
      vision::load_model_spec(vision::zoo_manifest_path(), vision::model_stem(model_path));
  const auto* head = spec.find_head<vision::SegmentationHead>();
  OSPREY_CHECK(head != nullptr, "model '{}' is a {} model; segment needs a segmentation model{}", spec.name,
               spec.task, spec.find_head<vision::DetectionHead>() ? " (try `osprey detect`)" : "");
  const float threshold = options.threshold >= 0 ? options.threshold : head->params().threshold;
  const vision::Image image = vision::read_image(options.image);
  const BackendStack backends = options.backend.make();
  const InterpreterOptions interpreter_options = backends.options();
  vision::Pipeline model(model_path, std::move(spec), interpreter_options);
  const auto result = model.run<vision::SegmentationHead>(image);

  const vision::Image binary = vision::threshold_mask(result.output, threshold);
  vision::write_png(options.out, options.soft ? result.output : binary);
  if (!options.overlay.empty()) {
    // The soft mask gives smooth edges in the picture people look at.
    vision::write_png(options.overlay, vision::overlay_mask(image, result.output, {0, 255, 0}, 0.5f));
  }
  size_t foreground = 0;
  for (uint8_t v : binary.pixels) foreground += v != 0;
  fmt::print("{}: {}x{}, model {}: foreground {:.1f}% (threshold {:.2f})\n", options.image, image.width,
             image.height, model.spec().name, 100.0 * static_cast<double>(foreground) / binary.pixels.size(),
             threshold);
  fmt::print("time: preprocess {:.1f} ms, inference {:.1f} ms, postprocess {:.1f} ms\n",
             result.timing.preprocess_ms, result.timing.inference_ms, result.timing.postprocess_ms);
  fmt::print("wrote {}{}\n", options.out, options.overlay.empty() ? "" : " and " + options.overlay);
}

}  // namespace

void add_segment_command(CLI::App& app) {
  auto options = std::make_shared<SegmentOptions>();
  CLI::App* cmd = app.add_subcommand("segment", "Segment people from the background (selfie segmentation)");
  cmd->add_option("image", options->image, "image file (JPEG or PNG)")->required();
  options->backend.add_options(cmd);
  cmd->add_option("-m,--model", options->model,
                  "zoo model NAME ($OSPREY_CACHE/models/NAME.tflite) or path to a .tflite file")
      ->capture_default_str();
  cmd->add_option("-o,--out", options->out, "mask PNG to write (white = person)")->required();
  cmd->add_option("--overlay", options->overlay, "also write the picture with the mask blended in (PNG)");
  cmd->add_option("-t,--threshold", options->threshold, "probability cut for the mask (default: the model's)")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_flag("--soft", options->soft, "write the probability (0-255) instead of a 0/255 mask");
  cmd->callback([options] { run_segment(*options); });
}

}  // namespace osprey::cli
