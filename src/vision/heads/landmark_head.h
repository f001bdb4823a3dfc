// Landmark models (MediaPipe's face mesh, hand and pose landmark models): the
// model sees a rotated region of interest and returns points in its input
// pixels, a presence score and, depending on the model, handedness, per-point
// visibility, a refinement heatmap and a segmentation mask. Manifest type
// "landmarks"; the ROI recipes (from a detection, from the previous frame's
// landmarks) live in the same manifest entry.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vision/heads/head.h"
#include "vision/landmarks/roi.h"

namespace osprey::vision {

struct Point3 {
  float x = 0, y = 0, z = 0;
};

// How a landmark model's ROI is made, from a detection or from landmarks.
struct RoiRecipe {
  enum class Method {
    kBox,           // the detection box / the landmarks' bounding box (DetectionsToRects)
    kAlignment,     // centre at `start`, side twice |end - start| (AlignmentPointsRects)
    kRotatedBounds  // bounds of `subset` in the rotated frame (HandLandmarksToRect)
  };
  Method method = Method::kBox;
  int rotation_start = 0;  // keypoint / landmark index
  // Rotation end: the mean of these points (HandLandmarksToRect averages
  // three knuckles); usually one index.
  std::vector<int> rotation_end;
  float target_angle = 0;   // radians
  std::vector<int> subset;  // kRotatedBounds: the landmarks bounded (empty: all)
  RectTransform transform;
};

// The mean (x, y) of `points[i]` for i in `indices` (not empty), for Point
// and Point3 alike.
template <typename P>
Point mean_of(const std::vector<P>& points, const std::vector<int>& indices) {
  Point sum;
  for (int i : indices) {
    sum.x += points[static_cast<size_t>(i)].x;
    sum.y += points[static_cast<size_t>(i)].y;
  }
  const auto n = static_cast<float>(indices.size());
  return {sum.x / n, sum.y / n};
}

// A manifest ROI transform: scale_x/y (positive, default 1), shift_x/y
// (default 0), square_long, square_short.
RectTransform parse_rect_transform(const ManifestFields& fields);

// Points a second output of the model gives more precisely (MediaPipe's
// LandmarksRefinementCalculator): its k-th (x, y) replaces the landmark at
// indices[k], or adds it when indices[k] is past the decoded ones. z stays
// the landmark's own, or with z_average, becomes the mean z of those
// landmarks (the iris points, which have no z of their own).
struct LandmarkRefinement {
  int output = 0;
  int values_per_landmark = 2;
  std::vector<int> indices;
  std::vector<int> z_average;
};

struct LandmarkParams {
  int input_width = 0, input_height = 0;
  std::string border = "replicate";  // input.border: zero or replicate
  int landmarks_output = 0;
  int num_landmarks = 0;  // decoded (includes auxiliary points)
  int num_reported = 0;   // the first num_reported are the subject's landmarks
  int num_refined = 0;    // after the refinements (num_landmarks without any)
  std::vector<LandmarkRefinement> refinements;
  int values_per_landmark = 3;  // x, y, z [, visibility, presence]
  float normalize_z = 1.0f;
  bool visibility = false;  // values 3 and 4 are visibility and presence logits
  int presence_output = 1;
  bool presence_sigmoid = false;
  float presence_threshold = 0.5f;
  int handedness_output = -1;  // -1: none
  std::vector<std::string> handedness_labels;
  int heatmap_output = -1;  // -1: no heatmap refinement
  int heatmap_kernel = 7;
  float heatmap_min_confidence = 0.5f;
  int segmentation_output = -1;  // -1: no mask
  std::string detector;          // the zoo detector the pipeline pairs it with
  RoiRecipe roi_from_detection;
  RoiRecipe roi_from_landmarks;
  std::vector<std::pair<int, int>> connections;  // for drawing
};

// One subject's landmarks, in pixels of the image the ROI was cut from.
struct LandmarkResult {
  float presence = 0;  // the model's presence score
  bool present = false;
  std::vector<Point3> landmarks;  // num_refined points, z in pixels too
  std::vector<float> visibility;  // per landmark, when the model gives it
  std::vector<float> landmark_presence;
  std::string handedness;  // empty when the model has none
  float handedness_score = 0;
  // Probability of "person" over the ROI (mask_width x mask_height, ROI
  // coordinates), when the model outputs a mask.
  std::vector<float> mask;
  int mask_width = 0, mask_height = 0;
};

class LandmarkHead final : public Head {
 public:
  static constexpr std::string_view kType = "landmarks";
  using Result = LandmarkResult;

  explicit LandmarkHead(LandmarkParams params);
  static std::shared_ptr<const Head> parse(const ManifestFields& head);

  std::string_view type() const override { return kType; }
  void check_outputs(const std::string& model, int num_outputs) const override;

  const LandmarkParams& params() const { return params_; }
  BorderMode border() const { return border_; }

  // `roi` is where the model's input was cut from (pixels of the image).
  Result decode(const ModelOutputs& outputs, const RotatedRect& roi) const;

  // The ROI recipes applied (image pixels).
  RotatedRect roi_from_detection(const Detection& detection) const;
  RotatedRect roi_from_landmarks(const std::vector<Point3>& landmarks) const;

 private:
  // Applies the refinements to the decoded, normalised landmarks.
  void refine(std::vector<Point3>& normalized, const ModelOutputs& outputs) const;

  LandmarkParams params_;
  BorderMode border_;
};

// Moves normalised landmarks (x, y in [0,1] of the model input) towards the
// heatmap's local centre of mass, like MediaPipe's
// RefineLandmarksFromHeatmapCalculator. heatmap is [rows, cols, channels]
// logits, one channel per landmark.
void refine_from_heatmap(std::vector<Point3>& landmarks, const std::vector<float>& heatmap, int rows,
                         int cols, int channels, int kernel, float min_confidence);

}  // namespace osprey::vision
