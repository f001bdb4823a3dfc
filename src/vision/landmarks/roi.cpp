#include "vision/landmarks/roi.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace osprey::vision {
namespace {

constexpr float kPi = std::numbers::pi_v<float>;

// Rotates (x, y) by `angle` in image coordinates (y down).
Point rotate(float x, float y, float angle) {
  const float c = std::cos(angle), s = std::sin(angle);
  return {c * x - s * y, s * x + c * y};
}

}  // namespace

Point RotatedRect::to_image(Point uv) const {
  const Point offset = rotate((uv.x - 0.5f) * width, (uv.y - 0.5f) * height, rotation);
  return {cx + offset.x, cy + offset.y};
}

Point RotatedRect::to_roi(Point pixel) const {
  const Point offset = rotate(pixel.x - cx, pixel.y - cy, -rotation);
  return {width > 0 ? offset.x / width + 0.5f : 0.5f, height > 0 ? offset.y / height + 0.5f : 0.5f};
}

Box RotatedRect::bounds() const {
  Box box{cx, cy, cx, cy};
  for (const Point corner : {Point{0, 0}, Point{1, 0}, Point{0, 1}, Point{1, 1}}) {
    const Point p = to_image(corner);
    box = {std::min(box.xmin, p.x), std::min(box.ymin, p.y), std::max(box.xmax, p.x),
           std::max(box.ymax, p.y)};
  }
  return box;
}

float normalize_radians(float angle) {
  return angle - 2 * kPi * std::floor((angle + kPi) / (2 * kPi));
}

float rotation_from(Point start, Point end, float target_radians) {
  // Image y grows downwards; the angle is measured with y up.
  return normalize_radians(target_radians - std::atan2(-(end.y - start.y), end.x - start.x));
}

RotatedRect transform_rect(const RotatedRect& rect, const RectTransform& t) {
  RotatedRect out = rect;
  const Point shift = rotate(rect.width * t.shift_x, rect.height * t.shift_y, rect.rotation);
  out.cx += shift.x;
  out.cy += shift.y;
  if (t.square_long) {
    out.width = out.height = std::max(rect.width, rect.height);
  } else if (t.square_short) {
    out.width = out.height = std::min(rect.width, rect.height);
  }
  out.width *= t.scale_x;
  out.height *= t.scale_y;
  return out;
}

RotatedRect rect_from_box(const Box& box, float rotation) {
  return {(box.xmin + box.xmax) / 2, (box.ymin + box.ymax) / 2, box.width(), box.height(), rotation};
}

RotatedRect rect_from_alignment_points(Point center, Point scale_point, float rotation) {
  const float side = 2 * std::hypot(scale_point.x - center.x, scale_point.y - center.y);
  return {center.x, center.y, side, side, rotation};
}

RotatedRect rect_around_points(std::span<const Point> points, float rotation) {
  OSPREY_CHECK(!points.empty(), "a region of interest needs at least one point");
  // Bounds in the rect's own axes, then the centre of those bounds back in image axes.
  float xmin = INFINITY, ymin = INFINITY, xmax = -INFINITY, ymax = -INFINITY;
  for (const Point& p : points) {
    const Point q = rotate(p.x, p.y, -rotation);
    xmin = std::min(xmin, q.x);
    xmax = std::max(xmax, q.x);
    ymin = std::min(ymin, q.y);
    ymax = std::max(ymax, q.y);
  }
  const Point center = rotate((xmin + xmax) / 2, (ymin + ymax) / 2, rotation);
  return {center.x, center.y, xmax - xmin, ymax - ymin, rotation};
}

RotatedRect letterbox_rect(int image_width, int image_height, int input_width, int input_height) {
  OSPREY_CHECK(image_width > 0 && image_height > 0 && input_width > 0 && input_height > 0,
               "letterbox of a {}x{} image into {}x{}: sizes must be positive", image_width, image_height,
               input_width, input_height);
  const auto w = static_cast<float>(image_width), h = static_cast<float>(image_height);
  const float input_aspect = static_cast<float>(input_width) / static_cast<float>(input_height);
  RotatedRect rect{w / 2, h / 2, w, h, 0};
  if (w / h > input_aspect) {
    rect.height = w / input_aspect;
  } else {
    rect.width = h * input_aspect;
  }
  return rect;
}

BorderMode parse_border_mode(const std::string& name) {
  if (name == "zero") return BorderMode::kZero;
  if (name == "replicate") return BorderMode::kReplicate;
  fail("unknown border mode '{}' (expected zero or replicate)", name);
}

namespace {

// Bilinear samples of the ROI, the output's pixel centres mapped as warp_roi
// says: calls sink(i, j, rgb) with float channel values in [0, 255].
template <typename Sink>
void sample_roi(const Image& image, const RotatedRect& rect, int width, int height, BorderMode border,
                Sink&& sink) {
  OSPREY_CHECK(image.channels == 3, "warp_roi needs an RGB image, got {} channels", image.channels);
  OSPREY_CHECK(!image.empty(), "warp_roi: empty image");
  OSPREY_CHECK(width > 0 && height > 0, "warp_roi: output size {}x{} is invalid", width, height);
  OSPREY_CHECK(std::isfinite(rect.cx) && std::isfinite(rect.cy) && std::isfinite(rect.width) &&
                   std::isfinite(rect.height) && std::isfinite(rect.rotation),
               "region of interest is not finite");
  // Continuous coordinates, pixel (x, y) covering [x, x+1): output pixel
  // (i, j) reads the image at origin + (i + 0.5) * step_u + (j + 0.5) * step_v,
  // whose nearest pixel centres are 0.5 lower.
  const Point origin = rect.to_image({0, 0});
  const Point along_u = rect.to_image({1, 0});
  const Point along_v = rect.to_image({0, 1});
  const float ux = (along_u.x - origin.x) / static_cast<float>(width);
  const float uy = (along_u.y - origin.y) / static_cast<float>(width);
  const float vx = (along_v.x - origin.x) / static_cast<float>(height);
  const float vy = (along_v.y - origin.y) / static_cast<float>(height);
  const auto image_w = static_cast<float>(image.width), image_h = static_cast<float>(image.height);
  const int last_x = image.width - 1, last_y = image.height - 1;
  for (int j = 0; j < height; ++j) {
    for (int i = 0; i < width; ++i) {
      const float fi = static_cast<float>(i) + 0.5f, fj = static_cast<float>(j) + 0.5f;
      const float sx = origin.x + fi * ux + fj * vx, sy = origin.y + fi * uy + fj * vy;
      float rgb[3] = {0, 0, 0};
      // Zero border as MediaPipe's GPU converter makes it: a sample point
      // outside the picture is black; one inside reads clamped neighbours, so
      // the edge pixels are not blended with black.
      if (border == BorderMode::kZero && !(sx >= 0 && sy >= 0 && sx <= image_w && sy <= image_h)) {
        sink(i, j, rgb);
        continue;
      }
      const float x = sx - 0.5f, y = sy - 0.5f;
      const float fx0 = std::floor(x), fy0 = std::floor(y);
      // Far outside: clamp without overflowing int.
      const int x0 = static_cast<int>(std::clamp(fx0, -2.0f, image_w + 1));
      const int y0 = static_cast<int>(std::clamp(fy0, -2.0f, image_h + 1));
      const float ax = std::clamp(x - fx0, 0.0f, 1.0f), ay = std::clamp(y - fy0, 0.0f, 1.0f);
      const float weights[4] = {(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay};
      for (int tap = 0; tap < 4; ++tap) {
        const int tx = std::clamp(x0 + (tap & 1), 0, last_x), ty = std::clamp(y0 + (tap >> 1), 0, last_y);
        const uint8_t* px = image.at(tx, ty);
        for (int c = 0; c < 3; ++c) rgb[c] += weights[tap] * static_cast<float>(px[c]);
      }
      sink(i, j, rgb);
    }
  }
}

}  // namespace

Image warp_roi(const Image& image, const RotatedRect& rect, int width, int height, BorderMode border) {
  OSPREY_CHECK(width > 0 && height > 0, "warp_roi: output size {}x{} is invalid", width, height);
  Image out(width, height, 3);
  sample_roi(image, rect, width, height, border, [&](int i, int j, const float* rgb) {
    uint8_t* px = out.at(i, j);
    for (int c = 0; c < 3; ++c) px[c] = static_cast<uint8_t>(std::clamp(std::lround(rgb[c]), 0L, 255L));
  });
  return out;
}

void warp_roi_to_floats(const Image& image, const RotatedRect& rect, int width, int height, BorderMode border,
                        float lo, float hi, float* out) {
  const float step = (hi - lo) / 255.0f;
  sample_roi(image, rect, width, height, border, [&](int i, int j, const float* rgb) {
    float* px = out + (static_cast<size_t>(j) * static_cast<size_t>(width) + static_cast<size_t>(i)) * 3;
    for (int c = 0; c < 3; ++c) px[c] = lo + rgb[c] * step;
  });
}

}  // namespace osprey::vision
