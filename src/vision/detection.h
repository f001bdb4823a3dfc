// A detected object: box, score, class and keypoints.
#pragma once

#include <vector>

#include "vision/preprocess.h"

namespace osprey::vision {

struct Box {
  float xmin = 0, ymin = 0;
  float xmax = 0, ymax = 0;

  float width() const { return xmax - xmin; }
  float height() const { return ymax - ymin; }
  float area() const { return width() > 0 && height() > 0 ? width() * height() : 0.0f; }
};

struct Detection {
  Box box;
  float score = 0;
  int class_id = 0;
  std::vector<Point> keypoints;
};

// Intersection over union; 0 when either box is empty.
float iou(const Box& a, const Box& b);

// Maps boxes and keypoints from normalised model-input coordinates to image
// pixels (undoing a letterbox), clipping boxes to the image.
Detection to_image_coordinates(const Detection& detection, const InputTransform& transform);

}  // namespace osprey::vision
