// Objectron's 3D bounding-box models (object_detection_3d_*): the model sees
// a square region of interest around one object and returns the 2D image
// projections of its box's centre and 8 corners plus a presence score.
// Manifest type "box-landmarks"; the entry also names the 2D detector that
// finds the object and the detector classes that count as it (MediaPipe's
// objectron graphs: ObjectDetectionOidV4Subgraph -> BoxLandmarkSubgraph).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vision/heads/head.h"
#include "vision/heads/landmark_head.h"
#include "vision/landmarks/roi.h"

namespace osprey::vision {

struct BoxLandmarkParams {
  int input_width = 0, input_height = 0;
  std::string border = "replicate";
  int keypoints_output = 0;
  int num_keypoints = 9;        // centre + 8 corners
  int values_per_keypoint = 2;  // x, y in model-input pixels
  int presence_output = 1;      // already a probability (the model ends in a sigmoid)
  float presence_threshold = 0.99f;
  // The 2D detection stage.
  std::string detector;                      // zoo name of the SSD detector
  std::vector<std::string> detector_labels;  // its classes that are this object
  float min_detection_score = 0.5f;
  float detection_nms_iou = 0.5f;  // class-agnostic, after the label filter
  int max_objects = 5;
  // A detection overlapping a tracked object's rect by more than this IoU is
  // the same object (MediaPipe's AssociationNormRectCalculator).
  float association_iou = 0.2f;
  // Object rect -> model ROI (RectTransformation inside BoxLandmarkSubgraph).
  RectTransform roi;
  // The ROI made from keypoints is turned so the box's up axis (bottom face
  // centre -> top face centre) points up in it.
  std::vector<int> bottom_face, top_face;
  std::vector<std::pair<int, int>> edges;  // the box's 12 edges, for drawing
};

class BoxLandmarkHead final : public Head {
 public:
  static constexpr std::string_view kType = "box-landmarks";
  using Result = LandmarkResult;  // keypoints as landmarks, z = 0

  explicit BoxLandmarkHead(BoxLandmarkParams params);
  static std::shared_ptr<const Head> parse(const ManifestFields& head);

  std::string_view type() const override { return kType; }
  void check_outputs(const std::string& model, int num_outputs) const override;

  const BoxLandmarkParams& params() const { return params_; }
  BorderMode border() const { return border_; }

  // `roi` is where the model's input was cut from (pixels of the image).
  Result decode(const ModelOutputs& outputs, const RotatedRect& roi) const;

  // The object's rect (before the ROI's enlargement) from a detection box:
  // the box, unrotated (DetectionsToRects).
  RotatedRect rect_from_box(const Box& box) const;
  // ... from the previous frame's keypoints: their axis-aligned bounds, turned
  // so the box's up axis is vertical (FrameAnnotationToRect, side view).
  RotatedRect rect_from_keypoints(const std::vector<Point3>& keypoints) const;
  // Object rect -> the region the model reads.
  RotatedRect roi_for(const RotatedRect& object_rect) const;
  // For annotate_landmarks: all keypoints reported, the edges as connections.
  LandmarkParams drawing_params() const;

 private:
  BoxLandmarkParams params_;
  BorderMode border_;
};

}  // namespace osprey::vision
