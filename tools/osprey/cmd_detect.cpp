// `osprey detect IMAGE|VIDEO`: run an SSD-style detector from the zoo on a
// picture (table or JSON, optionally drawn) or on every frame of a video, an
// image folder or a camera (JSON lines, optionally an annotated video).
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
#include "vision/draw.h"
#include "vision/image_io.h"
#include "vision/model_metadata.h"

namespace osprey::cli {
namespace {

struct DetectOptions {
  std::string image;
  BackendChoice backend;
  VideoLoopOptions video;
  std::string model = "face_detection_short_range";
  std::string spec;      // zoo entry for input and labels; empty: the model file's name
  float threshold = -1;  // < 0: the model's own min_score_thresh
  bool json = false;
  std::string out;
};

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
          {"timing_ms", timing_json(result.timing)}};
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

vision::Image annotate(const vision::ModelSpec& spec, const vision::Image& image, const DetectRun& result) {
  std::vector<vision::LabelledDetection> items;
  for (const vision::Detection& d : result.output) items.push_back({d, spec.label(d.class_id)});
  return vision::annotate_detections(image, items);
}

void run_detect_image(const DetectOptions& options) {
  Detector detector(options.model, options.spec, options.threshold, options.backend);
  const vision::Image image = vision::read_image(options.image);
  const DetectRun result = detector.run(image);
  if (!options.out.empty()) vision::write_png(options.out, annotate(detector.spec(), image, result));
  if (options.json) {
    fmt::print("{}\n", json_text(to_json(detector.spec(), image, result)));
  } else {
    print_table(detector.spec(), options, image, result);
    if (!options.out.empty()) fmt::print("wrote {}\n", options.out);
  }
}

// One JSON line (or one summary line) per processed frame.
void run_detect_video(const DetectOptions& options) {
  VideoLoopOptions video = options.video;
  video.input = options.image;
  video.out = options.out;
  VideoLoop opened(video);
  Detector detector(options.model, options.spec, options.threshold, options.backend);
  int64_t detections = 0;
  const VideoLoopStats stats = opened.run([&](const FrameInfo& frame, vision::Image& rgb) {
    const DetectRun result = detector.run(rgb);
    detections += int64_t(result.output.size());
    if (options.json) {
      nlohmann::ordered_json line = {{"frame", frame.index},
                                     {"timestamp_ms", round_to(frame.timestamp_ms, 3)}};
      line.update(to_json(detector.spec(), rgb, result));
      fmt::print("{}\n", json_text(line));
    } else {
      fmt::print("frame {} ({:.0f} ms): {} detections, inference {:.1f} ms\n", frame.index,
                 frame.timestamp_ms, result.output.size(), result.timing.inference_ms);
    }
    if (!options.out.empty()) rgb = annotate(detector.spec(), rgb, result);
  });
  if (!options.json)
    fmt::print("{}: {} frames, {} detections, {:.1f} fps{}\n", options.image, stats.processed, detections,
               stats.seconds > 0 ? double(stats.processed) / stats.seconds : 0.0,
               options.out.empty() ? "" : fmt::format("; wrote {} ({})", options.out, stats.codec));
}

void run_detect(const DetectOptions& options) {
  if (is_video_input(options.image))
    run_detect_video(options);
  else
    run_detect_image(options);
}

}  // namespace

void add_detect_command(CLI::App& app) {
  auto options = std::make_shared<DetectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "detect", "Detect faces or objects in a JPEG/PNG image, a video, an image folder or a camera");
  add_image_or_video_input(cmd, options->image);
  options->backend.add_options(cmd);
  options->video.add_to(cmd);
  cmd->add_option("-m,--model", options->model,
                  "zoo model NAME ($OSPREY_CACHE/models/NAME.tflite) or path to a .tflite file")
      ->capture_default_str();
  cmd->add_option("--spec", options->spec,
                  "zoo entry giving the input preparation and labels (default: the model file's name)");
  cmd->add_option("-t,--threshold", options->threshold, "minimum score (default: the model's own)")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_flag("--json", options->json,
                "print one JSON object instead of a table (on video: one per frame, a line each)");
  cmd->add_option("-o,--out", options->out,
                  "write the picture with the detections drawn (PNG; on video: .mp4, .mkv, .mov or .avi)");
  cmd->callback([options] { run_detect(*options); });
}

}  // namespace osprey::cli
