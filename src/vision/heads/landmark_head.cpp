// Field names follow MediaPipe's calculator options (TensorsToLandmarks,
// ThresholdingCalculator, DetectionsToRects, RectTransformation, ...) so the
// manifest entries can be checked against the published graphs.
#include "vision/heads/landmark_head.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/ranges.h>

#include "core/error.h"

namespace osprey::vision {
namespace {

// Refined points beyond the decoded ones (MediaPipe's irises: 468-477); far
// above any model's.
constexpr int kMaxRefinedIndex = 1 << 16;

float sigmoid(float x) {
  return 1.0f / (1.0f + std::exp(-x));
}

RoiRecipe parse_recipe(const ManifestFields& r) {
  RoiRecipe recipe;
  const auto method = r.get<std::string>("method");
  if (method == "box") {
    recipe.method = RoiRecipe::Method::kBox;
  } else if (method == "alignment") {
    recipe.method = RoiRecipe::Method::kAlignment;
  } else if (method == "rotated-bounds") {
    recipe.method = RoiRecipe::Method::kRotatedBounds;
  } else {
    fail("{}.method: unknown ROI method '{}' (expected box, alignment or rotated-bounds)", r.path(), method);
  }
  recipe.rotation_start = r.get<int>("rotation_start");
  recipe.rotation_end = r.get<std::vector<int>>("rotation_end");
  OSPREY_CHECK(!recipe.rotation_end.empty(), "{}.rotation_end: expected at least one index", r.path());
  recipe.target_angle = r.get<float>("target_angle_degrees", 0.0f) * std::numbers::pi_v<float> / 180.0f;
  recipe.subset = r.get<std::vector<int>>("subset", {});
  recipe.transform = parse_rect_transform(r);
  return recipe;
}

// Indices a recipe reads must exist among `count` points.
void check_recipe(const RoiRecipe& recipe, int count, const std::string& where) {
  auto check = [&](int index) {
    OSPREY_CHECK(index >= 0 && index < count, "{}: point index {} is out of range (there are {})", where,
                 index, count);
  };
  check(recipe.rotation_start);
  for (int i : recipe.rotation_end) check(i);
  for (int i : recipe.subset) check(i);
}

// One recipe for detections and landmarks alike: `box` is the detection box
// or the landmarks' bounds.
RotatedRect apply_recipe(const RoiRecipe& recipe, const std::vector<Point>& points, const Box& box,
                         const char* what) {
  const auto count = static_cast<int>(points.size());
  auto in_range = [count](int i) { return i >= 0 && i < count; };
  OSPREY_CHECK(in_range(recipe.rotation_start) &&
                   std::all_of(recipe.rotation_end.begin(), recipe.rotation_end.end(), in_range),
               "the ROI's rotation points (from {} to {}) are not among the {}'s {} points",
               recipe.rotation_start, fmt::join(recipe.rotation_end, "+"), what, count);
  const Point start = points[static_cast<size_t>(recipe.rotation_start)];
  const Point end = mean_of(points, recipe.rotation_end);
  const float rotation = rotation_from(start, end, recipe.target_angle);
  RotatedRect rect;
  switch (recipe.method) {
    case RoiRecipe::Method::kBox: rect = rect_from_box(box, rotation); break;
    case RoiRecipe::Method::kAlignment: rect = rect_from_alignment_points(start, end, rotation); break;
    case RoiRecipe::Method::kRotatedBounds: {
      std::vector<Point> subset;
      if (recipe.subset.empty()) subset = points;
      for (int i : recipe.subset) {
        OSPREY_CHECK(in_range(i), "the ROI recipe reads point {} the {} does not have", i, what);
        subset.push_back(points[static_cast<size_t>(i)]);
      }
      rect = rect_around_points(subset, rotation);
      break;
    }
  }
  return transform_rect(rect, recipe.transform);
}

LandmarkParams parse_params(const ManifestFields& head) {
  LandmarkParams p;
  const ManifestFields input = head.child("input");
  p.input_width = input.get<int>("width");
  p.input_height = input.get<int>("height");
  p.border = input.get<std::string>("border", "replicate");

  const ManifestFields lm = head.child("landmarks");
  p.landmarks_output = lm.get<int>("output", 0);
  p.num_landmarks = lm.get<int>("count");
  p.values_per_landmark = lm.get<int>("values_per_landmark", 3);
  p.normalize_z = lm.get<float>("normalize_z", 1.0f);
  p.visibility = lm.get<bool>("visibility", false);
  OSPREY_CHECK(p.num_landmarks > 0, "{}: count must be positive", lm.path());
  OSPREY_CHECK(p.values_per_landmark >= (p.visibility ? 5 : 3), "{}.values_per_landmark: {} is too few",
               lm.path(), p.values_per_landmark);
  OSPREY_CHECK(p.normalize_z > 0, "{}.normalize_z must be positive", lm.path());
  p.num_refined = p.num_landmarks;
  for (const ManifestFields& r : head.children("refinements")) {
    LandmarkRefinement& refinement = p.refinements.emplace_back();
    refinement.output = r.get<int>("output");
    refinement.values_per_landmark = r.get<int>("values_per_landmark", 2);
    refinement.indices = r.get<std::vector<int>>("indices");
    refinement.z_average = r.get<std::vector<int>>("z_average", {});
    OSPREY_CHECK(refinement.output >= 0 && refinement.values_per_landmark >= 2 && !refinement.indices.empty(),
                 "{}: needs an output, at least 2 values per landmark and indices", r.path());
    for (int i : refinement.indices) {
      OSPREY_CHECK(i >= 0 && i < kMaxRefinedIndex, "{}.indices: {} is not a landmark index", r.path(), i);
      p.num_refined = std::max(p.num_refined, i + 1);
    }
    for (int i : refinement.z_average) {
      OSPREY_CHECK(i >= 0 && i < p.num_landmarks, "{}.z_average: {} is not one of the {} decoded landmarks",
                   r.path(), i, p.num_landmarks);
    }
  }
  // Every added point must come from some refinement.
  std::vector<bool> added(static_cast<size_t>(p.num_refined - p.num_landmarks), false);
  for (const LandmarkRefinement& r : p.refinements) {
    for (int i : r.indices) {
      if (i >= p.num_landmarks) added[static_cast<size_t>(i - p.num_landmarks)] = true;
    }
  }
  for (size_t k = 0; k < added.size(); ++k) {
    OSPREY_CHECK(added[k], "{}.refinements: no refinement gives landmark {}", head.path(),
                 p.num_landmarks + static_cast<int>(k));
  }
  p.num_reported = lm.get<int>("reported", p.num_refined);
  OSPREY_CHECK(p.num_reported > 0 && p.num_reported <= p.num_refined,
               "{}.reported must be positive and at most the {} landmarks", lm.path(), p.num_refined);

  const ManifestFields presence = head.child("presence");
  p.presence_output = presence.get<int>("output");
  const auto activation = presence.get<std::string>("activation", "none");
  OSPREY_CHECK(activation == "none" || activation == "sigmoid",
               "{}.activation: '{}' (expected none or sigmoid)", presence.path(), activation);
  p.presence_sigmoid = activation == "sigmoid";
  p.presence_threshold = presence.get<float>("threshold", 0.5f);

  if (head.has("handedness")) {
    const ManifestFields h = head.child("handedness");
    p.handedness_output = h.get<int>("output");
    p.handedness_labels = h.get<std::vector<std::string>>("labels");
    OSPREY_CHECK(p.handedness_labels.size() == 2, "{}.labels: expected two labels", h.path());
  }
  if (head.has("heatmap")) {
    const ManifestFields h = head.child("heatmap");
    p.heatmap_output = h.get<int>("output");
    p.heatmap_kernel = h.get<int>("kernel_size", 7);
    p.heatmap_min_confidence = h.get<float>("min_confidence_to_refine", 0.5f);
    OSPREY_CHECK(p.heatmap_kernel > 0 && p.heatmap_kernel % 2 == 1, "{}.kernel_size must be odd", h.path());
  }
  if (head.has("segmentation")) p.segmentation_output = head.child("segmentation").get<int>("output");

  const ManifestFields from_detection = head.child("roi_from_detection");
  p.detector = from_detection.get<std::string>("detector");
  p.roi_from_detection = parse_recipe(from_detection);
  p.roi_from_landmarks = parse_recipe(head.child("roi_from_landmarks"));
  check_recipe(p.roi_from_landmarks, p.num_landmarks, head.path() + ".roi_from_landmarks");

  for (const auto& pair : head.get<std::vector<std::vector<int>>>("connections", {})) {
    OSPREY_CHECK(pair.size() == 2 && pair[0] >= 0 && pair[1] >= 0 && pair[0] < p.num_reported &&
                     pair[1] < p.num_reported,
                 "{}.connections: each must be two landmark indices below {}", head.path(), p.num_reported);
    p.connections.emplace_back(pair[0], pair[1]);
  }
  return p;
}

}  // namespace

RectTransform parse_rect_transform(const ManifestFields& fields) {
  RectTransform t;
  t.scale_x = fields.get<float>("scale_x", 1.0f);
  t.scale_y = fields.get<float>("scale_y", 1.0f);
  t.shift_x = fields.get<float>("shift_x", 0.0f);
  t.shift_y = fields.get<float>("shift_y", 0.0f);
  t.square_long = fields.get<bool>("square_long", false);
  t.square_short = fields.get<bool>("square_short", false);
  OSPREY_CHECK(t.scale_x > 0 && t.scale_y > 0, "{}: scales must be positive", fields.path());
  return t;
}

LandmarkHead::LandmarkHead(LandmarkParams params)
    : params_(std::move(params)), border_(parse_border_mode(params_.border)) {}

std::shared_ptr<const Head> LandmarkHead::parse(const ManifestFields& head) {
  return parse_naming_errors(head, [&] { return std::make_shared<const LandmarkHead>(parse_params(head)); });
}

void LandmarkHead::check_outputs(const std::string& model, int num_outputs) const {
  std::vector<int> used = {params_.landmarks_output, params_.presence_output, params_.handedness_output,
                           params_.heatmap_output, params_.segmentation_output};
  for (const LandmarkRefinement& r : params_.refinements) used.push_back(r.output);
  for (int index : used) {
    OSPREY_CHECK(index < num_outputs, "model '{}' has {} outputs; its metadata wants output {}", model,
                 num_outputs, index);
  }
}

LandmarkHead::Result LandmarkHead::decode(const ModelOutputs& outputs, const RotatedRect& roi) const {
  const LandmarkParams& p = params_;
  Result result;
  const std::vector<float> presence = tensor_values(outputs.at(p.presence_output));
  OSPREY_CHECK(!presence.empty(), "presence output {} is empty", p.presence_output);
  result.presence = p.presence_sigmoid ? sigmoid(presence[0]) : presence[0];
  result.present = result.presence >= p.presence_threshold;

  const std::vector<float> raw = tensor_values(outputs.at(p.landmarks_output));
  const auto per = static_cast<size_t>(p.values_per_landmark);
  const auto count = static_cast<size_t>(p.num_landmarks);
  OSPREY_CHECK(raw.size() >= count * per, "landmark output {} has {} values, expected {} x {}",
               p.landmarks_output, raw.size(), count, per);
  // Normalised to the model input first (TensorsToLandmarks), as the heatmap refinement expects.
  std::vector<Point3> normalized(count);
  const auto in_w = static_cast<float>(p.input_width), in_h = static_cast<float>(p.input_height);
  for (size_t i = 0; i < count; ++i) {
    const float* v = raw.data() + i * per;
    normalized[i] = {v[0] / in_w, v[1] / in_h, v[2] / in_w / p.normalize_z};
    if (p.visibility) {
      result.visibility.push_back(sigmoid(v[3]));
      result.landmark_presence.push_back(sigmoid(v[4]));
    }
  }
  if (p.heatmap_output >= 0) {
    const Tensor& heatmap = outputs.at(p.heatmap_output);
    OSPREY_CHECK(heatmap.rank() == 4, "heatmap output {} has shape {}, expected [1, H, W, C]",
                 p.heatmap_output, shape_str(heatmap.shape));
    refine_from_heatmap(normalized, tensor_values(heatmap), heatmap.dim(1), heatmap.dim(2), heatmap.dim(3),
                        p.heatmap_kernel, p.heatmap_min_confidence);
  }
  refine(normalized, outputs);
  result.landmarks.reserve(normalized.size());
  for (const Point3& n : normalized) {
    const Point pixel = roi.to_image({n.x, n.y});
    result.landmarks.push_back({pixel.x, pixel.y, n.z * roi.width});
  }

  if (p.handedness_output >= 0) {
    // Binary classification: the score is the first label's, 1 - score the second's.
    const std::vector<float> h = tensor_values(outputs.at(p.handedness_output));
    OSPREY_CHECK(!h.empty(), "handedness output {} is empty", p.handedness_output);
    const bool first = h[0] >= 0.5f;
    result.handedness = p.handedness_labels[first ? 0 : 1];
    result.handedness_score = first ? h[0] : 1.0f - h[0];
  }
  if (p.segmentation_output >= 0) {
    const Tensor& mask = outputs.at(p.segmentation_output);
    OSPREY_CHECK(mask.rank() == 4 && mask.dim(3) == 1,
                 "segmentation output {} has shape {}, expected [1, H, W, 1]", p.segmentation_output,
                 shape_str(mask.shape));
    result.mask = tensor_values(mask);
    for (float& m : result.mask) m = sigmoid(m);
    result.mask_height = mask.dim(1);
    result.mask_width = mask.dim(2);
  }
  return result;
}

void LandmarkHead::refine(std::vector<Point3>& normalized, const ModelOutputs& outputs) const {
  const LandmarkParams& p = params_;
  if (p.refinements.empty()) return;
  normalized.resize(static_cast<size_t>(p.num_refined));
  const auto in_w = static_cast<float>(p.input_width), in_h = static_cast<float>(p.input_height);
  for (const LandmarkRefinement& r : p.refinements) {
    const std::vector<float> values = tensor_values(outputs.at(r.output));
    const auto per = static_cast<size_t>(r.values_per_landmark);
    OSPREY_CHECK(values.size() >= r.indices.size() * per,
                 "refinement output {} has {} values, expected {} x {}", r.output, values.size(),
                 r.indices.size(), per);
    float z = 0;
    if (!r.z_average.empty()) {
      for (int i : r.z_average) z += normalized[static_cast<size_t>(i)].z;
      z /= static_cast<float>(r.z_average.size());
    }
    for (size_t k = 0; k < r.indices.size(); ++k) {
      Point3& point = normalized[static_cast<size_t>(r.indices[k])];
      point.x = values[k * per] / in_w;
      point.y = values[k * per + 1] / in_h;
      if (!r.z_average.empty()) point.z = z;
    }
  }
}

RotatedRect LandmarkHead::roi_from_detection(const Detection& detection) const {
  return apply_recipe(params_.roi_from_detection, detection.keypoints, detection.box, "detection");
}

RotatedRect LandmarkHead::roi_from_landmarks(const std::vector<Point3>& landmarks) const {
  std::vector<Point> points;
  points.reserve(landmarks.size());
  Box box{INFINITY, INFINITY, -INFINITY, -INFINITY};
  for (const Point3& l : landmarks) {
    points.push_back({l.x, l.y});
    box = {std::min(box.xmin, l.x), std::min(box.ymin, l.y), std::max(box.xmax, l.x),
           std::max(box.ymax, l.y)};
  }
  return apply_recipe(params_.roi_from_landmarks, points, box, "landmark list");
}

void refine_from_heatmap(std::vector<Point3>& landmarks, const std::vector<float>& heatmap, int rows,
                         int cols, int channels, int kernel, float min_confidence) {
  OSPREY_CHECK(rows > 0 && cols > 0 && channels >= static_cast<int>(landmarks.size()),
               "heatmap [{}, {}, {}] does not cover {} landmarks", rows, cols, channels, landmarks.size());
  OSPREY_CHECK(
      heatmap.size() == static_cast<size_t>(rows) * static_cast<size_t>(cols) * static_cast<size_t>(channels),
      "heatmap has {} values, expected {} x {} x {}", heatmap.size(), rows, cols, channels);
  const int offset = (kernel - 1) / 2;
  for (size_t k = 0; k < landmarks.size(); ++k) {
    Point3& l = landmarks[k];
    if (!std::isfinite(l.x) || !std::isfinite(l.y)) continue;
    // Truncation towards zero, as MediaPipe's int conversion does.
    const float fc = l.x * static_cast<float>(cols), fr = l.y * static_cast<float>(rows);
    if (fc <= -1 || fr <= -1 || fc >= static_cast<float>(cols) || fr >= static_cast<float>(rows)) continue;
    const int center_col = static_cast<int>(fc), center_row = static_cast<int>(fr);
    float sum = 0, weighted_col = 0, weighted_row = 0, max_confidence = 0;
    for (int r = std::max(0, center_row - offset); r < std::min(rows, center_row + offset + 1); ++r) {
      for (int c = std::max(0, center_col - offset); c < std::min(cols, center_col + offset + 1); ++c) {
        const size_t at = (static_cast<size_t>(r) * static_cast<size_t>(cols) + static_cast<size_t>(c)) *
                              static_cast<size_t>(channels) +
                          k;
        const float confidence = sigmoid(heatmap[at]);
        sum += confidence;
        max_confidence = std::max(max_confidence, confidence);
        weighted_col += static_cast<float>(c) * confidence;
        weighted_row += static_cast<float>(r) * confidence;
      }
    }
    if (max_confidence >= min_confidence && sum > 0) {
      l.x = weighted_col / static_cast<float>(cols) / sum;
      l.y = weighted_row / static_cast<float>(rows) / sum;
    }
  }
}

}  // namespace osprey::vision
