// Field names follow MediaPipe's objectron graphs (box_landmark_*.pbtxt,
// object_detection_oid_v4_*.pbtxt, objectron_*.pbtxt) so the manifest entries
// can be checked against them.
#include "vision/heads/box_landmark_head.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace osprey::vision {
namespace {

BoxLandmarkParams parse_params(const ManifestFields& head) {
  BoxLandmarkParams p;
  const ManifestFields input = head.child("input");
  p.input_width = input.get<int>("width");
  p.input_height = input.get<int>("height");
  p.border = input.get<std::string>("border", "replicate");

  const ManifestFields kp = head.child("keypoints");
  p.keypoints_output = kp.get<int>("output", 0);
  p.num_keypoints = kp.get<int>("count");
  p.values_per_keypoint = kp.get<int>("values_per_keypoint", 2);
  OSPREY_CHECK(p.num_keypoints > 0, "{}.count must be positive", kp.path());
  OSPREY_CHECK(p.values_per_keypoint >= 2, "{}.values_per_keypoint: {} is too few (x, y at least)", kp.path(),
               p.values_per_keypoint);

  const ManifestFields presence = head.child("presence");
  p.presence_output = presence.get<int>("output");
  p.presence_threshold = presence.get<float>("threshold", 0.99f);

  const ManifestFields detection = head.child("detection");
  p.detector = detection.get<std::string>("detector");
  p.detector_labels = detection.get<std::vector<std::string>>("labels");
  OSPREY_CHECK(!p.detector_labels.empty(), "{}.labels: expected at least one detector class",
               detection.path());
  p.min_detection_score = detection.get<float>("min_score", 0.5f);
  p.detection_nms_iou = detection.get<float>("nms_iou", 0.5f);
  p.max_objects = detection.get<int>("max_objects", 5);
  OSPREY_CHECK(p.max_objects > 0, "{}.max_objects must be positive", detection.path());

  const ManifestFields roi = head.child("roi");
  p.roi = parse_rect_transform(roi);
  p.association_iou = roi.get<float>("association_iou", 0.2f);

  auto indices = [&](const ManifestFields& fields, const char* key) {
    auto list = fields.get<std::vector<int>>(key);
    OSPREY_CHECK(!list.empty(), "{}.{}: expected at least one keypoint index", fields.path(), key);
    for (int i : list) {
      OSPREY_CHECK(i >= 0 && i < p.num_keypoints, "{}.{}: keypoint {} is out of range (there are {})",
                   fields.path(), key, i, p.num_keypoints);
    }
    return list;
  };
  const ManifestFields rotation = head.child("rotation");
  p.bottom_face = indices(rotation, "bottom_face");
  p.top_face = indices(rotation, "top_face");

  for (const auto& pair : head.get<std::vector<std::vector<int>>>("edges", {})) {
    OSPREY_CHECK(pair.size() == 2 && pair[0] >= 0 && pair[1] >= 0 && pair[0] < p.num_keypoints &&
                     pair[1] < p.num_keypoints,
                 "{}.edges: each must be two keypoint indices below {}", head.path(), p.num_keypoints);
    p.edges.emplace_back(pair[0], pair[1]);
  }
  return p;
}

}  // namespace

BoxLandmarkHead::BoxLandmarkHead(BoxLandmarkParams params)
    : params_(std::move(params)), border_(parse_border_mode(params_.border)) {}

std::shared_ptr<const Head> BoxLandmarkHead::parse(const ManifestFields& head) {
  return parse_naming_errors(head,
                             [&] { return std::make_shared<const BoxLandmarkHead>(parse_params(head)); });
}

void BoxLandmarkHead::check_outputs(const std::string& model, int num_outputs) const {
  for (int index : {params_.keypoints_output, params_.presence_output}) {
    OSPREY_CHECK(index >= 0 && index < num_outputs, "model '{}' has {} outputs; its metadata wants output {}",
                 model, num_outputs, index);
  }
}

BoxLandmarkHead::Result BoxLandmarkHead::decode(const ModelOutputs& outputs, const RotatedRect& roi) const {
  const BoxLandmarkParams& p = params_;
  Result result;
  const std::vector<float> presence = tensor_values(outputs.at(p.presence_output));
  OSPREY_CHECK(!presence.empty(), "presence output {} is empty", p.presence_output);
  result.presence = presence[0];
  result.present = result.presence >= p.presence_threshold;

  const std::vector<float> raw = tensor_values(outputs.at(p.keypoints_output));
  const auto per = static_cast<size_t>(p.values_per_keypoint);
  const auto count = static_cast<size_t>(p.num_keypoints);
  OSPREY_CHECK(raw.size() >= count * per, "keypoint output {} has {} values, expected {} x {}",
               p.keypoints_output, raw.size(), count, per);
  // Model-input pixels -> [0,1] of the ROI -> image pixels (TensorsToLandmarks, LandmarkProjection).
  const auto in_w = static_cast<float>(p.input_width), in_h = static_cast<float>(p.input_height);
  result.landmarks.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const float* v = raw.data() + i * per;
    const Point pixel = roi.to_image({v[0] / in_w, v[1] / in_h});
    result.landmarks.push_back({pixel.x, pixel.y, 0.0f});
  }
  return result;
}

RotatedRect BoxLandmarkHead::rect_from_box(const Box& box) const {
  return vision::rect_from_box(box, 0.0f);
}

RotatedRect BoxLandmarkHead::rect_from_keypoints(const std::vector<Point3>& keypoints) const {
  OSPREY_CHECK(keypoints.size() >= static_cast<size_t>(params_.num_keypoints),
               "expected {} box keypoints, got {}", params_.num_keypoints, keypoints.size());
  Box bounds{INFINITY, INFINITY, -INFINITY, -INFINITY};
  for (size_t i = 0; i < static_cast<size_t>(params_.num_keypoints); ++i) {
    const Point3& k = keypoints[i];
    bounds = {std::min(bounds.xmin, k.x), std::min(bounds.ymin, k.y), std::max(bounds.xmax, k.x),
              std::max(bounds.ymax, k.y)};
  }
  const float up = std::numbers::pi_v<float> / 2;
  const float rotation =
      rotation_from(mean_of(keypoints, params_.bottom_face), mean_of(keypoints, params_.top_face), up);
  return vision::rect_from_box(bounds, rotation);
}

RotatedRect BoxLandmarkHead::roi_for(const RotatedRect& object_rect) const {
  return transform_rect(object_rect, params_.roi);
}

LandmarkParams BoxLandmarkHead::drawing_params() const {
  LandmarkParams drawing;
  drawing.input_width = params_.input_width;
  drawing.input_height = params_.input_height;
  drawing.num_landmarks = drawing.num_reported = params_.num_keypoints;
  drawing.values_per_landmark = params_.values_per_keypoint;
  drawing.connections = params_.edges;
  return drawing;
}

}  // namespace osprey::vision
