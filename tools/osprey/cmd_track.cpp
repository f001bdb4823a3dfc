// `osprey track VIDEO --model NAME`: detect objects on every frame and follow
// them with a multi-object tracker (vision/track), giving each a stable ID;
// JSON lines per frame and/or a video with the IDs drawn. --baseline also
// runs frame-to-frame IoU matching on the same detections and reports both
// trackers' ID switches (the proxy in vision/track/id_switches.h).
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "backend_options.h"
#include "commands.h"
#include "core/error.h"
#include "detector.h"
#include "io/json_text.h"
#include "video_loop.h"
#include "vision/draw.h"
#include "vision/track/id_switches.h"
#include "vision/track/tracker.h"

namespace osprey::cli {
namespace {

struct TrackOptions {
  std::string video;
  BackendChoice backend;
  VideoLoopOptions loop;
  std::string model = "object_detection_ssd_mobilenetv2_oidv4_fp16";
  std::string spec;
  float threshold = -1;
  std::vector<std::string> labels;  // keep only these; empty: all
  std::string tracker = "kalman";
  vision::track::TrackerParams params;
  bool baseline = false;
  bool json = false;
  std::string out;
};

nlohmann::ordered_json track_json(const vision::ModelSpec& spec,
                                  const std::vector<vision::track::Track>& tracks) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const vision::track::Track& t : tracks) {
    const vision::Box& b = t.detection.box;
    list.push_back(
        {{"id", t.id},
         {"label", spec.label(t.detection.class_id)},
         {"score", round_to(t.detection.score, 4)},
         {"box", {round_to(b.xmin, 1), round_to(b.ymin, 1), round_to(b.xmax, 1), round_to(b.ymax, 1)}}});
  }
  return list;
}

// Boxes coloured and tagged by track ID.
vision::Image annotate_tracks(const vision::ModelSpec& spec, const vision::Image& image,
                              const std::vector<vision::track::Track>& tracks) {
  std::vector<vision::LabelledDetection> items;
  for (const vision::track::Track& t : tracks) {
    vision::Detection d = t.detection;
    d.class_id = t.id;  // one colour per track
    d.keypoints.clear();
    items.push_back({d, fmt::format("{} {}", t.id, spec.label(t.detection.class_id))});
  }
  return vision::annotate_detections(image, items);
}

std::string describe(const char* name, const vision::track::IdSwitchCount& c) {
  return fmt::format("{}: {} IDs, {} ID switches ({} jumps, {} fragments)", name, c.distinct_ids, c.total(),
                     c.jumps, c.fragments);
}

// Seconds since `start`, in milliseconds.
double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

void run_track(const TrackOptions& options) {
  OSPREY_CHECK(options.tracker == "kalman" || options.tracker == "iou",
               "unknown tracker '{}' (kalman or iou)", options.tracker);
  VideoLoopOptions loop = options.loop;
  loop.input = options.video;
  loop.out = options.out;
  VideoLoop opened(loop);
  Detector detector(options.model, options.spec, options.threshold, options.backend);
  const vision::ModelSpec& spec = detector.spec();
  std::set<int> wanted;
  for (const std::string& label : options.labels) {
    bool found = false;
    for (int id = 0; id < int(spec.labels.size()); ++id)
      if (spec.labels[size_t(id)] == label) wanted.insert(id), found = true;
    OSPREY_CHECK(found, "model '{}' has no label '{}'", spec.name, label);
  }

  vision::track::KalmanTracker kalman(options.params);
  vision::track::IouTracker frame_to_frame(options.params.min_iou);
  vision::track::IouTracker baseline(options.params.min_iou);
  vision::track::IdSwitchCounter switches, baseline_switches;
  const bool use_kalman = options.tracker == "kalman";
  int64_t step = 0;  // processed frames: the trackers' unit of time
  const VideoLoopStats stats = opened.run([&](const FrameInfo& frame, vision::Image& rgb) {
    DetectRun result = detector.run(rgb);
    if (!wanted.empty())
      std::erase_if(result.output, [&](const vision::Detection& d) { return !wanted.count(d.class_id); });
    const auto start = std::chrono::steady_clock::now();
    const std::vector<vision::track::Track> tracks =
        use_kalman ? kalman.update(result.output) : frame_to_frame.update(result.output);
    const double tracking_ms = ms_since(start);
    switches.add(step, tracks);
    if (options.baseline) baseline_switches.add(step, baseline.update(result.output));
    ++step;
    if (options.json) {
      nlohmann::ordered_json timing = timing_json(result.timing);
      timing["tracking"] = round_to(tracking_ms, 3);
      const nlohmann::ordered_json line = {{"frame", frame.index},
                                           {"timestamp_ms", round_to(frame.timestamp_ms, 3)},
                                           {"tracks", track_json(spec, tracks)},
                                           {"timing_ms", timing}};
      fmt::print("{}\n", json_text(line));
    } else {
      std::string ids;
      for (const auto& t : tracks) ids += fmt::format(" #{}", t.id);
      fmt::print("frame {} ({:.0f} ms): {} tracks{}\n", frame.index, frame.timestamp_ms, tracks.size(), ids);
    }
    if (!options.out.empty()) rgb = annotate_tracks(spec, rgb, tracks);
  });

  // The summary goes to stderr under --json so stdout stays JSON lines.
  std::FILE* summary = options.json ? stderr : stdout;
  fmt::print(summary, "{}: {} frames, {:.1f} fps, {}{}\n", options.video, stats.processed,
             stats.seconds > 0 ? double(stats.processed) / stats.seconds : 0.0,
             describe(use_kalman ? "kalman tracker" : "iou tracker", switches.count()),
             options.out.empty() ? "" : fmt::format("; wrote {} ({})", options.out, stats.codec));
  if (options.baseline)
    fmt::print(summary, "{}: {}\n", options.video, describe("iou baseline", baseline_switches.count()));
}

}  // namespace

void add_track_command(CLI::App& app) {
  auto options = std::make_shared<TrackOptions>();
  CLI::App* cmd = app.add_subcommand(
      "track", "Detect and track objects through a video, an image folder or a camera, with stable IDs");
  cmd->add_option("video", options->video, "video file, image folder or /dev/videoN")->required();
  options->backend.add_options(cmd);
  options->loop.add_to(cmd);
  cmd->add_option("-m,--model", options->model,
                  "zoo detector NAME ($OSPREY_CACHE/models/NAME.tflite) or path to a .tflite file")
      ->capture_default_str();
  cmd->add_option("--spec", options->spec, "zoo entry giving the input preparation and labels");
  cmd->add_option("-t,--threshold", options->threshold, "minimum detection score (default: the model's own)")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--labels", options->labels, "track only these labels (e.g. Person)")->delimiter(',');
  cmd->add_option("--tracker", options->tracker,
                  "kalman (IoU + constant-velocity Kalman) or iou (frame to frame)")
      ->capture_default_str();
  cmd->add_option("--min-iou", options->params.min_iou,
                  "overlap to match a track's predicted box to a detection")
      ->check(CLI::Range(0.01f, 1.0f))
      ->capture_default_str();
  cmd->add_option("--min-hits", options->params.min_hits, "matched frames before a track gets an ID")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--max-misses", options->params.max_misses, "frames a track survives without a match")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_flag("--baseline", options->baseline,
                "also count the ID switches of frame-to-frame IoU matching on the same detections");
  cmd->add_flag("--json", options->json, "one JSON line per frame: frame, timestamp_ms, tracks, timing_ms");
  cmd->add_option("-o,--out", options->out, "annotated video with the track IDs (.mp4, .mkv, .mov or .avi)");
  cmd->callback([options] { run_track(*options); });
}

}  // namespace osprey::cli
