// `osprey landmarks IMAGE --pipeline face-mesh|hands|pose`: detector -> ROI ->
// landmark model on a picture; prints the subjects (summary or JSON) and
// optionally draws them. On a video the same per frame, with the ROIs tracked
// from frame to frame (--no-tracking: the detector on every frame).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <string>

#include "backend_options.h"
#include "commands.h"
#include "core/error.h"
#include "detector.h"
#include "io/json_text.h"
#include "landmarks_objectron.h"
#include "video_loop.h"
#include "vision/image_io.h"
#include "vision/landmarks/landmark_output.h"
#include "vision/landmarks/landmark_pipeline.h"

namespace osprey::cli {
namespace {

struct LandmarksOptions {
  std::string image;
  BackendChoice backend;
  VideoLoopOptions video;
  vision::LandmarkPipelineOptions pipeline;
  bool json = false;
  bool no_tracking = false;
  std::string out;
  std::string object;  // --pipeline objectron
};

void print_summary(const LandmarksOptions& options, const vision::LandmarkPipeline& pipeline,
                   const vision::Image& image, const vision::LandmarkFrame& frame) {
  fmt::print("{}: {}x{}, pipeline {} ({} -> {})\n", options.image, image.width, image.height, pipeline.name(),
             pipeline.detector_spec().name, pipeline.landmark_spec().name);
  if (frame.subjects.empty()) fmt::print("no subjects\n");
  int index = 1;
  for (const vision::LandmarkSubject& s : frame.subjects) {
    std::string extra;
    if (!s.result.handedness.empty())
      extra = fmt::format("  {} {:.2f}", s.result.handedness, s.result.handedness_score);
    fmt::print(
        "{:>3}  score {:.3f}  box [{:.1f}, {:.1f}, {:.1f}, {:.1f}]  {} landmarks{}\n", index++,
        s.result.presence, s.box.xmin, s.box.ymin, s.box.xmax, s.box.ymax,
        std::min(s.result.landmarks.size(), static_cast<size_t>(pipeline.head().params().num_reported)),
        extra);
  }
  fmt::print("time: detector {:.1f} ms, landmarks {:.1f} ms, total {:.1f} ms\n", frame.timing.detector_ms,
             frame.timing.landmarks_ms, frame.timing.total_ms);
}

void run_landmarks_video(const LandmarksOptions& options, VideoLoop& opened,
                         vision::LandmarkPipeline& pipeline) {
  int64_t detector_runs = 0;
  const VideoLoopStats stats = opened.run([&](const FrameInfo& info, vision::Image& rgb) {
    const vision::LandmarkFrame frame = pipeline.process(rgb);
    detector_runs += frame.detector_ran;
    if (options.json) {
      nlohmann::ordered_json line = {{"frame", info.index}, {"timestamp_ms", round_to(info.timestamp_ms, 3)}};
      line.update(vision::landmarks_to_json(pipeline.name(), rgb.width, rgb.height, frame,
                                            pipeline.head().params().num_reported));
      fmt::print("{}\n", json_text(line));
    } else {
      fmt::print("frame {} ({:.0f} ms): {} subjects{}, {:.1f} ms\n", info.index, info.timestamp_ms,
                 frame.subjects.size(), frame.detector_ran ? " (detector ran)" : "", frame.timing.total_ms);
    }
    if (!options.out.empty()) rgb = vision::annotate_landmarks(rgb, frame, pipeline.head().params());
  });
  if (!options.json)
    fmt::print("{}: {} frames, {:.1f} fps, detector on {} frames{}\n", options.image, stats.processed,
               stats.seconds > 0 ? double(stats.processed) / stats.seconds : 0.0, detector_runs,
               options.out.empty() ? "" : fmt::format("; wrote {} ({})", options.out, stats.codec));
}

void run_landmarks(LandmarksOptions options) {
  if (options.pipeline.pipeline == "objectron") {
    const vision::LandmarkPipelineOptions& p = options.pipeline;
    OSPREY_CHECK(!options.object.empty(), "--pipeline objectron needs --object (one of: {})",
                 fmt::join(vision::objectron_objects(), ", "));
    ObjectronCommand command;
    command.input = options.image;
    command.backend = options.backend;
    command.video = options.video;
    command.pipeline.object = options.object;
    command.pipeline.model = p.landmark_model;
    command.pipeline.detector = p.detector;
    command.pipeline.max_objects = p.max_subjects;
    command.pipeline.min_detection_score = p.min_detection_score;
    command.json = options.json;
    command.no_tracking = options.no_tracking;
    command.out = options.out;
    run_objectron_landmarks(std::move(command));
    return;
  }
  OSPREY_CHECK(options.object.empty(), "--object is for --pipeline objectron");
  const bool video = is_video_input(options.image);
  OSPREY_CHECK(video || !options.no_tracking, "--no-tracking is for video input");
  std::unique_ptr<VideoLoop> opened;
  if (video) {
    // Opened first so a bad source or output fails before the models load.
    VideoLoopOptions loop = options.video;
    loop.input = options.image;
    loop.out = options.out;
    opened = std::make_unique<VideoLoop>(loop);
    options.pipeline.track = !options.no_tracking;
    const BackendStack backends = options.backend.make();
    vision::LandmarkPipeline pipeline(options.pipeline, backends.options());
    run_landmarks_video(options, *opened, pipeline);
    return;
  }
  // One picture: nothing to track.
  options.pipeline.track = false;
  const vision::Image image = vision::read_image(options.image);
  const BackendStack backends = options.backend.make();
  vision::LandmarkPipeline pipeline(options.pipeline, backends.options());
  const vision::LandmarkFrame frame = pipeline.process(image);
  if (!options.out.empty()) {
    vision::write_png(options.out, vision::annotate_landmarks(image, frame, pipeline.head().params()));
  }
  if (options.json) {
    fmt::print("{}\n", json_text(vision::landmarks_to_json(pipeline.name(), image.width, image.height, frame,
                                                           pipeline.head().params().num_reported)));
  } else {
    print_summary(options, pipeline, image, frame);
    if (!options.out.empty()) fmt::print("wrote {}\n", options.out);
  }
}

}  // namespace

void add_landmarks_command(CLI::App& app) {
  auto options = std::make_shared<LandmarksOptions>();
  CLI::App* cmd = app.add_subcommand(
      "landmarks", "Face mesh, hand, body-pose or 3D object-box landmarks in an image or a video");
  add_image_or_video_input(cmd, options->image);
  std::string names;
  for (const std::string& n : vision::landmark_pipeline_names()) names += (names.empty() ? "" : "|") + n;
  names += "|objectron";
  cmd->add_option("-p,--pipeline", options->pipeline.pipeline, names)->capture_default_str();
  options->backend.add_options(cmd);
  options->video.add_to(cmd);
  cmd->add_option("--object", options->object,
                  "objectron: the object whose 3D box to find (camera, chair, cup, sneakers)");
  cmd->add_option(
         "--max-subjects", options->pipeline.max_subjects,
         "most faces/hands/people/objects (default: 1 face, 2 hands, 1 person, 5 objects, as MediaPipe)")
      ->check(whole_number(1));
  cmd->add_option("-m,--model", options->pipeline.landmark_model,
                  "landmark model (default: face_landmark, hand_landmark_full, pose_landmark_full, "
                  "object_detection_3d_<object>)");
  cmd->add_option("--detector", options->pipeline.detector,
                  "detector (default: the landmark model's zoo entry's)");
  cmd->add_option("-t,--threshold", options->pipeline.min_detection_score,
                  "minimum detection score (default: the detector's own)")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_flag("--json", options->json,
                "print one JSON object (docs/landmarks.md); on video, one per frame");
  cmd->add_flag("--no-tracking", options->no_tracking,
                "on video: run the detector on every frame instead of tracking the ROIs");
  cmd->add_option("-o,--out", options->out,
                  "write the picture with the landmarks drawn (PNG); on video, the annotated video "
                  "(.mp4, .mkv, .mov, .avi)");
  cmd->callback([options] { run_landmarks(*options); });
}

}  // namespace osprey::cli
