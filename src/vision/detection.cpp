// Geometry shared by the detection heads.
#include "vision/detection.h"

#include <algorithm>

namespace osprey::vision {

float iou(const Box& a, const Box& b) {
  const Box inter{std::max(a.xmin, b.xmin), std::max(a.ymin, b.ymin), std::min(a.xmax, b.xmax),
                  std::min(a.ymax, b.ymax)};
  const float intersection = inter.area();
  if (intersection <= 0.0f) return 0.0f;
  const float union_area = a.area() + b.area() - intersection;
  return union_area > 0.0f ? intersection / union_area : 0.0f;
}

Detection to_image_coordinates(const Detection& d, const InputTransform& t) {
  Detection out = d;
  const Point top_left = t.to_image({d.box.xmin, d.box.ymin});
  const Point bottom_right = t.to_image({d.box.xmax, d.box.ymax});
  const auto w = static_cast<float>(t.image_width);
  const auto h = static_cast<float>(t.image_height);
  out.box = {std::clamp(top_left.x, 0.0f, w), std::clamp(top_left.y, 0.0f, h),
             std::clamp(bottom_right.x, 0.0f, w), std::clamp(bottom_right.y, 0.0f, h)};
  for (Point& p : out.keypoints) p = t.to_image(p);
  return out;
}

}  // namespace osprey::vision
