// A constant-velocity Kalman filter on a box's centre, width and height.
// With the position-only measurement and noise that is independent per
// coordinate, the 8-state filter splits exactly into four 2-state
// (position, velocity) filters, which is what this stores.
#pragma once

#include <array>

#include "vision/detection.h"

namespace osprey::vision::track {

struct KalmanNoise {
  // Standard deviations as fractions of the box height (scale-aware, so a
  // near and a far person are filtered alike): measurement, process noise on
  // the position and on the velocity per frame.
  float measurement = 1.0f / 20;
  float position = 1.0f / 20;
  float velocity = 1.0f / 160;
};

// One coordinate: state (x, v), covariance [[p00, p01], [p01, p11]].
struct AxisFilter {
  float x = 0, v = 0;
  float p00 = 0, p01 = 0, p11 = 0;

  // x += v; P = F P F^T + diag(q_x, q_v).
  void predict(float q_x, float q_v);
  // Standard update with measurement z of variance r.
  void update(float z, float r);
};

class KalmanBoxFilter {
 public:
  KalmanBoxFilter(const Box& box, const KalmanNoise& noise = {});

  // Moves one frame forward and returns the predicted box.
  Box predict();
  // Folds in a measured box; returns the corrected box.
  Box update(const Box& measured);
  Box box() const;
  // Centre velocity in pixels per frame.
  Point velocity() const { return {axes_[0].v, axes_[1].v}; }

 private:
  float height_scale() const;

  KalmanNoise noise_;
  std::array<AxisFilter, 4> axes_;  // centre x, centre y, width, height
};

}  // namespace osprey::vision::track
