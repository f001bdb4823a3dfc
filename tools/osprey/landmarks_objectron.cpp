#include "landmarks_objectron.h"

#include <fmt/format.h>

#include <memory>

#include "core/error.h"
#include "detector.h"
#include "io/json_text.h"
#include "vision/image_io.h"
#include "vision/landmarks/landmark_output.h"
#include "vision/landmarks/objectron_output.h"

namespace osprey::cli {
namespace {

void print_summary(const ObjectronCommand& command, const vision::ObjectronPipeline& pipeline,
                   const vision::Image& image, const vision::ObjectronFrame& result) {
  fmt::print("{}: {}x{}, pipeline objectron, object {} ({} -> {})\n", command.input, image.width,
             image.height, command.pipeline.object, pipeline.detector_spec().name,
             pipeline.landmark_spec().name);
  if (result.frame.subjects.empty()) fmt::print("no objects\n");
  for (size_t i = 0; i < result.frame.subjects.size(); ++i) {
    const vision::LandmarkSubject& s = result.frame.subjects[i];
    const vision::Point3& centre = s.result.landmarks.front();
    fmt::print("{:>3}  {}  score {:.3f}  box [{:.1f}, {:.1f}, {:.1f}, {:.1f}]  centre [{:.1f}, {:.1f}]\n",
               i + 1, result.labels[i], s.result.presence, s.box.xmin, s.box.ymin, s.box.xmax, s.box.ymax,
               centre.x, centre.y);
  }
  fmt::print("time: detector {:.1f} ms, 3D box model {:.1f} ms, total {:.1f} ms\n",
             result.frame.timing.detector_ms, result.frame.timing.landmarks_ms, result.frame.timing.total_ms);
}

void run_video(const ObjectronCommand& command, VideoLoop& opened, vision::ObjectronPipeline& pipeline) {
  int64_t detector_runs = 0;
  const vision::LandmarkParams drawing = pipeline.head().drawing_params();
  const VideoLoopStats stats = opened.run([&](const FrameInfo& info, vision::Image& rgb) {
    const vision::ObjectronFrame result = pipeline.process(rgb);
    detector_runs += result.frame.detector_ran;
    if (command.json) {
      nlohmann::ordered_json line = {{"frame", info.index}, {"timestamp_ms", round_to(info.timestamp_ms, 3)}};
      line.update(vision::objectron_to_json(command.pipeline.object, rgb.width, rgb.height, result));
      fmt::print("{}\n", json_text(line));
    } else {
      fmt::print("frame {} ({:.0f} ms): {} objects{}, {:.1f} ms\n", info.index, info.timestamp_ms,
                 result.frame.subjects.size(), result.frame.detector_ran ? " (detector ran)" : "",
                 result.frame.timing.total_ms);
    }
    if (!command.out.empty()) rgb = vision::annotate_landmarks(rgb, result.frame, drawing);
  });
  if (!command.json)
    fmt::print("{}: {} frames, {:.1f} fps, detector on {} frames{}\n", command.input, stats.processed,
               stats.seconds > 0 ? double(stats.processed) / stats.seconds : 0.0, detector_runs,
               command.out.empty() ? "" : fmt::format("; wrote {} ({})", command.out, stats.codec));
}

}  // namespace

void run_objectron_landmarks(ObjectronCommand command) {
  if (is_video_input(command.input)) {
    // Opened first so a bad source or output fails before the models load.
    VideoLoopOptions loop = command.video;
    loop.input = command.input;
    loop.out = command.out;
    VideoLoop opened(loop);
    command.pipeline.track = !command.no_tracking;
    const BackendStack backends = command.backend.make();
    vision::ObjectronPipeline pipeline(command.pipeline, backends.options());
    run_video(command, opened, pipeline);
    return;
  }
  OSPREY_CHECK(!command.no_tracking, "--no-tracking is for video input");
  command.pipeline.track = false;
  const vision::Image image = vision::read_image(command.input);
  const BackendStack backends = command.backend.make();
  vision::ObjectronPipeline pipeline(command.pipeline, backends.options());
  const vision::ObjectronFrame result = pipeline.process(image);
  if (!command.out.empty())
    vision::write_png(command.out,
                      vision::annotate_landmarks(image, result.frame, pipeline.head().drawing_params()));
  if (command.json) {
    fmt::print("{}\n", json_text(vision::objectron_to_json(command.pipeline.object, image.width, image.height,
                                                           result)));
  } else {
    print_summary(command, pipeline, image, result);
    if (!command.out.empty()) fmt::print("wrote {}\n", command.out);
  }
}

}  // namespace osprey::cli
