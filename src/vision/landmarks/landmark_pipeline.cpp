#include "vision/landmarks/landmark_pipeline.h"

#include <algorithm>
#include <array>
#include <chrono>

#include "core/error.h"
#include "vision/box_decoder.h"
#include "vision/nms.h"

namespace osprey::vision {
namespace {

using Clock = std::chrono::steady_clock;

struct PipelineDefaults {
  const char* name;
  const char* landmark_model;
  int max_subjects;  // MediaPipe's solution defaults: max_num_faces 1, max_num_hands 2, one pose
};

constexpr std::array kPipelines = {
    PipelineDefaults{"face-mesh", "face_landmark", 1},
    PipelineDefaults{"hands", "hand_landmark_full", 2},
    PipelineDefaults{"pose", "pose_landmark_full", 1},
};

const PipelineDefaults& find_pipeline(const std::string& name) {
  for (const auto& p : kPipelines) {
    if (name == p.name) return p;
  }
  std::string known;
  for (const std::string& n : landmark_pipeline_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown pipeline '{}' (known: {})", name, known);
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::unique_ptr<Pipeline> load(const std::string& name_or_path, const InterpreterOptions& options) {
  const std::string path = resolve_model_path(name_or_path);
  return std::make_unique<Pipeline>(path, load_model_spec(zoo_manifest_path(), model_stem(path)), options);
}

// The detector's head without clipping boxes to the image: a palm or a face
// at the edge keeps its true centre, as in MediaPipe's graphs. It decodes
// against the letterbox ROI the detector input was warped from.
struct UnclippedDetections {
  using Result = std::vector<Detection>;
  const DetectionHead& head;

  // The letterbox border is black (ImageToTensor's BORDER_ZERO for detectors).
  BorderMode border() const { return BorderMode::kZero; }

  Result decode(const ModelOutputs& outputs, const RotatedRect& letterbox) const {
    const DetectionParams& p = head.params();
    Result found = decode_boxes(tensor_values(outputs.at(p.boxes_output)),
                                tensor_values(outputs.at(p.scores_output)), head.anchors(), p.decoder);
    found = non_max_suppression(std::move(found), p.nms);
    for (Detection& d : found) {
      const Point top_left = letterbox.to_image({d.box.xmin, d.box.ymin});
      const Point bottom_right = letterbox.to_image({d.box.xmax, d.box.ymax});
      d.box = {top_left.x, top_left.y, bottom_right.x, bottom_right.y};
      for (Point& k : d.keypoints) k = letterbox.to_image(k);
    }
    return found;
  }
};

// MediaPipe's association keeps a tracked ROI over a new detection's when
// their boxes overlap by more than this.
constexpr float kSameSubjectIou = 0.5f;

}  // namespace

std::vector<std::string> landmark_pipeline_names() {
  std::vector<std::string> names;
  for (const auto& p : kPipelines) names.emplace_back(p.name);
  return names;
}

LandmarkPipeline::LandmarkPipeline(const LandmarkPipelineOptions& options,
                                   const InterpreterOptions& interpreter)
    : name_(options.pipeline), track_(options.track) {
  const PipelineDefaults& defaults = find_pipeline(options.pipeline);
  OSPREY_CHECK(options.max_subjects >= 0, "--max-subjects must not be negative");
  max_subjects_ = options.max_subjects > 0 ? options.max_subjects : defaults.max_subjects;
  landmarks_ =
      load(options.landmark_model.empty() ? defaults.landmark_model : options.landmark_model, interpreter);
  head_ = landmarks_->spec().find_head<LandmarkHead>();
  OSPREY_CHECK(head_ != nullptr, "model '{}' is a {} model, not a landmark model", landmarks_->spec().name,
               landmarks_->spec().task);
  detector_ = load(options.detector.empty() ? head_->params().detector : options.detector, interpreter);
  const auto* detector_head = detector_->spec().find_head<DetectionHead>();
  OSPREY_CHECK(detector_head != nullptr, "model '{}' is a {} model; the {} pipeline needs an SSD detector",
               detector_->spec().name, detector_->spec().task, name_);
  detector_head_.emplace(options.min_detection_score >= 0
                             ? detector_head->with_min_score(options.min_detection_score)
                             : *detector_head);
}

std::vector<Detection> LandmarkPipeline::detect(const Image& frame) {
  // The detector input as ImageToTensor makes it: the whole picture as a ROI,
  // letterboxed (the zoo's detectors) or stretched.
  const InputSpec& input = detector_->spec().input;
  const RotatedRect whole =
      input.resize == ResizeMode::kLetterbox
          ? letterbox_rect(frame.width, frame.height, input.width, input.height)
          : RotatedRect{frame.width / 2.0f, frame.height / 2.0f, static_cast<float>(frame.width),
                        static_cast<float>(frame.height), 0};
  return detector_->run_on_roi(frame, whole, UnclippedDetections{*detector_head_}).output;
}

LandmarkFrame LandmarkPipeline::process(const Image& frame) {
  const auto start = Clock::now();
  LandmarkFrame out;
  std::vector<RotatedRect> rois;
  if (track_) rois = std::move(tracked_);
  tracked_.clear();
  std::vector<bool> from_tracking(rois.size(), true);

  if (static_cast<int>(rois.size()) < max_subjects_) {
    const auto detector_start = Clock::now();
    std::vector<Detection> detections = detect(frame);
    out.detector_ran = true;
    if (static_cast<int>(detections.size()) > max_subjects_)
      detections.resize(static_cast<size_t>(max_subjects_));
    for (const Detection& d : detections) {
      const RotatedRect roi = head_->roi_from_detection(d);
      const bool known = std::any_of(rois.begin(), rois.end(), [&](const RotatedRect& r) {
        return iou(r.bounds(), roi.bounds()) > kSameSubjectIou;
      });
      if (known || static_cast<int>(rois.size()) >= max_subjects_) continue;
      rois.push_back(roi);
      from_tracking.push_back(false);
    }
    out.timing.detector_ms = ms_since(detector_start);
  }

  const auto landmarks_start = Clock::now();
  const auto reported = static_cast<size_t>(head_->params().num_reported);
  for (size_t i = 0; i < rois.size(); ++i) {
    // A degenerate ROI (a detection with no extent) has nothing to look at.
    if (!(rois[i].width > 1 && rois[i].height > 1)) continue;
    LandmarkResult result = landmarks_->run_on_roi(frame, rois[i], *head_).output;
    if (!result.present) continue;
    if (track_) {
      // Two ROIs that converged on one subject: keep the first.
      const RotatedRect next = head_->roi_from_landmarks(result.landmarks);
      const bool duplicate = std::any_of(tracked_.begin(), tracked_.end(), [&](const RotatedRect& r) {
        return iou(r.bounds(), next.bounds()) > kSameSubjectIou;
      });
      if (duplicate) continue;
      tracked_.push_back(next);
    }
    LandmarkSubject subject;
    subject.roi = rois[i];
    subject.tracked = from_tracking[i];
    subject.box = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t k = 0; k < std::min(reported, result.landmarks.size()); ++k) {
      const Point3& l = result.landmarks[k];
      subject.box = {std::min(subject.box.xmin, l.x), std::min(subject.box.ymin, l.y),
                     std::max(subject.box.xmax, l.x), std::max(subject.box.ymax, l.y)};
    }
    subject.result = std::move(result);
    out.subjects.push_back(std::move(subject));
  }
  out.timing.landmarks_ms = ms_since(landmarks_start);
  out.timing.total_ms = ms_since(start);
  return out;
}

}  // namespace osprey::vision
