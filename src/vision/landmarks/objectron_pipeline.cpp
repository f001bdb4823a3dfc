#include "vision/landmarks/objectron_pipeline.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "vision/box_decoder.h"
#include "vision/image_io.h"
#include "vision/nms.h"

namespace osprey::vision {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kModelPrefix = "object_detection_3d_";

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::unique_ptr<Pipeline> load(const std::string& name_or_path, const InterpreterOptions& options) {
  const std::string path = resolve_model_path(name_or_path);
  return std::make_unique<Pipeline>(path, load_model_spec(zoo_manifest_path(), model_stem(path)), options);
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The detector's raw boxes (all classes over the threshold), in image pixels
// and not clipped: an object at the edge keeps its true centre.
struct RawDetections {
  using Result = std::vector<Detection>;
  const DetectionHead& head;
  float min_score;

  Result decode(const ModelOutputs& outputs, const InputTransform& geometry) const {
    const DetectionParams& p = head.params();
    BoxDecoderOptions decoder = p.decoder;
    decoder.min_score_thresh = min_score;
    Result found = decode_boxes(tensor_values(outputs.at(p.boxes_output)),
                                tensor_values(outputs.at(p.scores_output)), head.anchors(), decoder);
    for (Detection& d : found) {
      const Point top_left = geometry.to_image({d.box.xmin, d.box.ymin});
      const Point bottom_right = geometry.to_image({d.box.xmax, d.box.ymax});
      d.box = {top_left.x, top_left.y, bottom_right.x, bottom_right.y};
    }
    return found;
  }
};

}  // namespace

std::vector<std::string> objectron_objects() {
  const std::string manifest_path = zoo_manifest_path();
  const std::vector<uint8_t> bytes = read_file_bytes(manifest_path);
  const auto manifest = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  OSPREY_CHECK(manifest.is_object() && manifest.contains("models") && manifest.at("models").is_array(),
               "{}: expected an object with a \"models\" array", manifest_path);
  std::vector<std::string> objects;
  for (const auto& entry : manifest.at("models")) {
    if (!entry.is_object() || !entry.contains("name") || !entry.at("name").is_string()) continue;
    const auto name = entry.at("name").get<std::string>();
    if (name.starts_with(kModelPrefix)) objects.push_back(name.substr(kModelPrefix.size()));
  }
  std::sort(objects.begin(), objects.end());
  return objects;
}

ObjectronPipeline::ObjectronPipeline(const ObjectronOptions& options, const InterpreterOptions& interpreter)
    : track_(options.track) {
  OSPREY_CHECK(options.max_objects >= 0, "--max-subjects must not be negative");
  std::string model = options.model;
  if (model.empty()) {
    const std::vector<std::string> known = objectron_objects();
    OSPREY_CHECK(std::find(known.begin(), known.end(), options.object) != known.end(),
                 "the zoo has no 3D-box model for object '{}' (known: {})", options.object, joined(known));
    model = std::string(kModelPrefix) + options.object;
  }
  model_ = load(model, interpreter);
  head_ = model_->spec().find_head<BoxLandmarkHead>();
  OSPREY_CHECK(head_ != nullptr, "model '{}' is a {} model, not a 3D-box (objectron) model",
               model_->spec().name, model_->spec().task);
  const BoxLandmarkParams& p = head_->params();
  max_objects_ = options.max_objects > 0 ? options.max_objects : p.max_objects;
  min_detection_score_ =
      options.min_detection_score >= 0 ? options.min_detection_score : p.min_detection_score;
  detector_ = load(options.detector.empty() ? p.detector : options.detector, interpreter);
  detector_head_ = detector_->spec().find_head<DetectionHead>();
  OSPREY_CHECK(detector_head_ != nullptr,
               "model '{}' is a {} model; the objectron pipeline needs an SSD detector",
               detector_->spec().name, detector_->spec().task);
  // A detector that cannot name the object's classes would never find it.
  for (const std::string& label : p.detector_labels) {
    const auto& labels = detector_->spec().labels;
    OSPREY_CHECK(std::find(labels.begin(), labels.end(), label) != labels.end(),
                 "detector '{}' has no class '{}', which model '{}' needs", detector_->spec().name, label,
                 model_->spec().name);
  }
}

std::vector<Detection> ObjectronPipeline::detect(const Image& frame) {
  std::vector<Detection> found =
      detector_->run(frame, RawDetections{*detector_head_, min_detection_score_}).output;
  // Label filter before NMS, as object_detection_oid_v4_cpu.pbtxt orders them.
  const auto& allowed = head_->params().detector_labels;
  std::erase_if(found, [&](const Detection& d) {
    return std::find(allowed.begin(), allowed.end(), detector_->spec().label(d.class_id)) == allowed.end();
  });
  return hard_nms(std::move(found), head_->params().detection_nms_iou, /*per_class=*/false, max_objects_);
}

ObjectronFrame ObjectronPipeline::process(const Image& frame) {
  const auto start = Clock::now();
  ObjectronFrame out;
  std::vector<Tracked> objects;
  if (track_) objects = std::move(tracked_);
  tracked_.clear();
  std::vector<bool> from_tracking(objects.size(), true);
  const float same_object = head_->params().association_iou;

  if (static_cast<int>(objects.size()) < max_objects_) {
    const auto detector_start = Clock::now();
    const std::vector<Detection> detections = detect(frame);
    out.frame.detector_ran = true;
    for (const Detection& d : detections) {
      const RotatedRect rect = head_->rect_from_box(d.box);
      const bool known = std::any_of(objects.begin(), objects.end(), [&](const Tracked& t) {
        return iou(t.rect.bounds(), rect.bounds()) > same_object;
      });
      if (known || static_cast<int>(objects.size()) >= max_objects_) continue;
      objects.push_back({rect, detector_->spec().label(d.class_id)});
      from_tracking.push_back(false);
    }
    out.frame.timing.detector_ms = ms_since(detector_start);
  }

  const auto model_start = Clock::now();
  for (size_t i = 0; i < objects.size(); ++i) {
    const RotatedRect roi = head_->roi_for(objects[i].rect);
    // A detection with no extent has nothing to look at.
    if (!(roi.width > 1 && roi.height > 1)) continue;
    LandmarkResult result = model_->run_on_roi(frame, roi, *head_).output;
    // A model that returns NaN keypoints has found nothing it can place.
    const bool finite = std::all_of(result.landmarks.begin(), result.landmarks.end(),
                                    [](const Point3& k) { return std::isfinite(k.x) && std::isfinite(k.y); });
    if (!result.present || !finite) continue;
    if (track_) {
      // Two ROIs that converged on one object: keep the first.
      const RotatedRect next = head_->rect_from_keypoints(result.landmarks);
      const bool duplicate = std::any_of(tracked_.begin(), tracked_.end(), [&](const Tracked& t) {
        return iou(t.rect.bounds(), next.bounds()) > same_object;
      });
      if (duplicate) continue;
      tracked_.push_back({next, objects[i].label});
    }
    LandmarkSubject subject;
    subject.roi = roi;
    subject.tracked = from_tracking[i];
    subject.box = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (const Point3& k : result.landmarks) {
      subject.box = {std::min(subject.box.xmin, k.x), std::min(subject.box.ymin, k.y),
                     std::max(subject.box.xmax, k.x), std::max(subject.box.ymax, k.y)};
    }
    subject.result = std::move(result);
    out.frame.subjects.push_back(std::move(subject));
    out.labels.push_back(objects[i].label);
  }
  out.frame.timing.landmarks_ms = ms_since(model_start);
  out.frame.timing.total_ms = ms_since(start);
  return out;
}

}  // namespace osprey::vision
