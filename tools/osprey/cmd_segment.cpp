// `osprey segment IMAGE --out mask.png`: run a segmentation model (selfie
// segmentation) and write the mask, optionally blended over the picture.
// `osprey segment VIDEO [--json] [--out overlay.mp4]`: the same on every
// frame, as JSON lines and a video with the mask blended in.
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "backend_options.h"
#include "commands.h"
#include "core/error.h"
#include "detector.h"
#include "io/json_text.h"
#include "video_loop.h"
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
  VideoLoopOptions video;
  std::string model = "selfie_segmentation";
  std::string out;
  std::string overlay;
  float threshold = -1;  // < 0: the model's own threshold
  bool soft = false;
  bool json = false;
};

double foreground_fraction(const vision::Image& binary) {
  size_t foreground = 0;
  for (uint8_t v : binary.pixels) foreground += v != 0;
  return binary.pixels.empty() ? 0.0 : static_cast<double>(foreground) / double(binary.pixels.size());
}

void run_segment_video(const SegmentOptions& options, VideoLoop& opened, vision::Pipeline& model,
                       float threshold) {
  const VideoLoopStats stats = opened.run([&](const FrameInfo& frame, vision::Image& rgb) {
    const auto result = model.run<vision::SegmentationHead>(rgb);
    const double foreground = foreground_fraction(vision::threshold_mask(result.output, threshold));
    if (options.json) {
      const nlohmann::ordered_json line = {{"frame", frame.index},
                                           {"timestamp_ms", round_to(frame.timestamp_ms, 3)},
                                           {"model", model.spec().name},
                                           {"image", {{"width", rgb.width}, {"height", rgb.height}}},
                                           {"threshold", round_to(threshold, 4)},
                                           {"foreground", round_to(foreground, 4)},
                                           {"timing_ms", timing_json(result.timing)}};
      fmt::print("{}\n", json_text(line));
    } else {
      fmt::print("frame {} ({:.0f} ms): foreground {:.1f}%\n", frame.index, frame.timestamp_ms,
                 100 * foreground);
    }
    if (!options.out.empty()) rgb = vision::overlay_mask(rgb, result.output, {0, 255, 0}, 0.5f);
  });
  if (!options.json)
    fmt::print("{}: {} frames, {:.1f} fps{}\n", options.image, stats.processed,
               stats.seconds > 0 ? double(stats.processed) / stats.seconds : 0.0,
               options.out.empty() ? "" : fmt::format("; wrote {} ({})", options.out, stats.codec));
}

void run_segment(const SegmentOptions& options) {
  const bool video = is_video_input(options.image);
  OSPREY_CHECK(video || !options.out.empty(), "segment on an image needs --out MASK.png");
  OSPREY_CHECK(video || !options.json, "--json is for video input; on an image segment writes the mask");
  const std::string model_path = vision::resolve_model_path(options.model);
  vision::ModelSpec spec =
      vision::load_model_spec(vision::zoo_manifest_path(), vision::model_stem(model_path));
  const auto* head = spec.find_head<vision::SegmentationHead>();
  OSPREY_CHECK(head != nullptr, "model '{}' is a {} model; segment needs a segmentation model{}", spec.name,
               spec.task, spec.find_head<vision::DetectionHead>() ? " (try `osprey detect`)" : "");
  const float threshold = options.threshold >= 0 ? options.threshold : head->params().threshold;
  OSPREY_CHECK(!video || (options.overlay.empty() && !options.soft),
               "--overlay and --soft are for images; on video, --out writes the overlay video");
  std::unique_ptr<VideoLoop> opened;
  if (video) {
    VideoLoopOptions loop = options.video;
    loop.input = options.image;
    loop.out = options.out;
    opened = std::make_unique<VideoLoop>(loop);
  }
  const vision::Image image = video ? vision::Image() : vision::read_image(options.image);
  const BackendStack backends = options.backend.make();
  const InterpreterOptions interpreter_options = backends.options();
  vision::Pipeline model(model_path, std::move(spec), interpreter_options);
  if (video) {
    run_segment_video(options, *opened, model, threshold);
    return;
  }
  const auto result = model.run<vision::SegmentationHead>(image);

  const vision::Image binary = vision::threshold_mask(result.output, threshold);
  vision::write_png(options.out, options.soft ? result.output : binary);
  if (!options.overlay.empty()) {
    // The soft mask gives smooth edges in the picture people look at.
    vision::write_png(options.overlay, vision::overlay_mask(image, result.output, {0, 255, 0}, 0.5f));
  }
  fmt::print("{}: {}x{}, model {}: foreground {:.1f}% (threshold {:.2f})\n", options.image, image.width,
             image.height, model.spec().name, 100.0 * foreground_fraction(binary), threshold);
  fmt::print("time: preprocess {:.1f} ms, inference {:.1f} ms, postprocess {:.1f} ms\n",
             result.timing.preprocess_ms, result.timing.inference_ms, result.timing.postprocess_ms);
  fmt::print("wrote {}{}\n", options.out, options.overlay.empty() ? "" : " and " + options.overlay);
}

}  // namespace

void add_segment_command(CLI::App& app) {
  auto options = std::make_shared<SegmentOptions>();
  CLI::App* cmd = app.add_subcommand(
      "segment", "Segment people from the background (selfie segmentation) in an image or a video");
  add_image_or_video_input(cmd, options->image);
  options->backend.add_options(cmd);
  options->video.add_to(cmd);
  cmd->add_option("-m,--model", options->model,
                  "zoo model NAME ($OSPREY_CACHE/models/NAME.tflite) or path to a .tflite file")
      ->capture_default_str();
  cmd->add_option("-o,--out", options->out,
                  "mask PNG to write (white = person; required on an image); on video, the overlay video "
                  "(.mp4, .mkv, .mov, .avi)");
  cmd->add_flag("--json", options->json, "on video: one JSON line per frame");
  cmd->add_option("--overlay", options->overlay, "also write the picture with the mask blended in (PNG)");
  cmd->add_option("-t,--threshold", options->threshold, "probability cut for the mask (default: the model's)")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_flag("--soft", options->soft, "write the probability (0-255) instead of a 0/255 mask");
  cmd->callback([options] { run_segment(*options); });
}

}  // namespace osprey::cli
