#include "vision/track/kalman_box_filter.h"

#include <algorithm>

namespace osprey::vision::track {

void AxisFilter::predict(float q_x, float q_v) {
  x += v;
  // F = [[1, 1], [0, 1]]: F P F^T expanded.
  const float n00 = p00 + 2 * p01 + p11, n01 = p01 + p11;
  p00 = n00 + q_x;
  p01 = n01;
  p11 = p11 + q_v;
}

void AxisFilter::update(float z, float r) {
  const float s = p00 + r;  // innovation variance (H = [1, 0])
  const float k0 = p00 / s, k1 = p01 / s;
  const float innovation = z - x;
  x += k0 * innovation;
  v += k1 * innovation;
  // P = (I - K H) P
  const float n00 = (1 - k0) * p00, n01 = (1 - k0) * p01, n11 = p11 - k1 * p01;
  p00 = n00;
  p01 = n01;
  p11 = n11;
}

KalmanBoxFilter::KalmanBoxFilter(const Box& box, const KalmanNoise& noise) : noise_(noise) {
  const float values[4] = {(box.xmin + box.xmax) / 2, (box.ymin + box.ymax) / 2, box.width(), box.height()};
  const float h = std::max(box.height(), 1.0f);
  for (int i = 0; i < 4; ++i) {
    AxisFilter& a = axes_[i];
    a.x = values[i];
    a.v = 0;
    // The first box is as certain as a measurement; its velocity is unknown.
    const float sp = 2 * noise_.position * h, sv = 10 * noise_.velocity * h;
    a.p00 = sp * sp;
    a.p01 = 0;
    a.p11 = sv * sv;
  }
}

float KalmanBoxFilter::height_scale() const {
  return std::max(axes_[3].x, 1.0f);
}

Box KalmanBoxFilter::predict() {
  const float h = height_scale();
  const float q_x = (noise_.position * h) * (noise_.position * h);
  const float q_v = (noise_.velocity * h) * (noise_.velocity * h);
  for (AxisFilter& a : axes_) a.predict(q_x, q_v);
  // A shrinking box must not turn inside out.
  for (int i = 2; i < 4; ++i)
    if (axes_[i].x < 1) axes_[i].x = 1, axes_[i].v = std::max(axes_[i].v, 0.0f);
  return box();
}

Box KalmanBoxFilter::update(const Box& measured) {
  const float h = std::max(measured.height(), 1.0f);
  const float r = (noise_.measurement * h) * (noise_.measurement * h);
  const float z[4] = {(measured.xmin + measured.xmax) / 2, (measured.ymin + measured.ymax) / 2,
                      measured.width(), measured.height()};
  for (int i = 0; i < 4; ++i) axes_[i].update(z[i], r);
  return box();
}

Box KalmanBoxFilter::box() const {
  const float cx = axes_[0].x, cy = axes_[1].x;
  const float w = std::max(axes_[2].x, 1.0f), h = std::max(axes_[3].x, 1.0f);
  return {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
}

}  // namespace osprey::vision::track
