// Minimum-area rectangles for the DB text detector's post-processing.
#include "vision/ocr/min_area_rect.h"

#include <algorithm>
#include <cmath>

namespace osprey::vision::ocr {
namespace {

double cross(const Point& o, const Point& a, const Point& b) {
  return (static_cast<double>(a.x) - o.x) * (static_cast<double>(b.y) - o.y) -
         (static_cast<double>(a.y) - o.y) * (static_cast<double>(b.x) - o.x);
}

}  // namespace

std::vector<Point> convex_hull(std::vector<Point> points) {
  std::sort(points.begin(), points.end(),
            [](const Point& a, const Point& b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
  points.erase(std::unique(points.begin(), points.end(),
                           [](const Point& a, const Point& b) { return a.x == b.x && a.y == b.y; }),
               points.end());
  if (points.size() < 3) return points;
  // Andrew's monotone chain: lower then upper chain, dropping right turns.
  std::vector<Point> hull(2 * points.size());
  size_t k = 0;
  for (const Point& p : points) {
    while (k >= 2 && cross(hull[k - 2], hull[k - 1], p) <= 0) --k;
    hull[k++] = p;
  }
  const size_t lower = k + 1;
  for (size_t i = points.size() - 1; i-- > 0;) {
    while (k >= lower && cross(hull[k - 2], hull[k - 1], points[i]) <= 0) --k;
    hull[k++] = points[i];
  }
  hull.resize(k - 1);
  return hull;
}

RotatedRect min_area_rect(const std::vector<Point>& points) {
  const std::vector<Point> hull = convex_hull(points);
  RotatedRect best;
  if (hull.empty()) return best;
  if (hull.size() == 1) {
    best.center = hull[0];
    return best;
  }
  double best_area = -1;
  for (size_t i = 0; i < hull.size(); ++i) {
    const Point& a = hull[i];
    const Point& b = hull[(i + 1) % hull.size()];
    const double dx = static_cast<double>(b.x) - a.x, dy = static_cast<double>(b.y) - a.y;
    const double length = std::hypot(dx, dy);
    if (length == 0) continue;
    const double ux = dx / length, uy = dy / length;  // along the edge
    double min_u = 0, max_u = 0, min_v = 0, max_v = 0;
    for (const Point& p : hull) {
      const double px = static_cast<double>(p.x) - a.x, py = static_cast<double>(p.y) - a.y;
      const double u = px * ux + py * uy, v = -px * uy + py * ux;
      min_u = std::min(min_u, u);
      max_u = std::max(max_u, u);
      min_v = std::min(min_v, v);
      max_v = std::max(max_v, v);
    }
    const double area = (max_u - min_u) * (max_v - min_v);
    if (best_area >= 0 && area >= best_area) continue;
    best_area = area;
    const double cu = (min_u + max_u) / 2, cv = (min_v + max_v) / 2;
    best.center = {static_cast<float>(a.x + cu * ux - cv * uy), static_cast<float>(a.y + cu * uy + cv * ux)};
    best.width = static_cast<float>(max_u - min_u);
    best.height = static_cast<float>(max_v - min_v);
    best.axis = {static_cast<float>(ux), static_cast<float>(uy)};
  }
  return best;
}

Quad box_corners(const RotatedRect& rect) {
  const float hx = rect.axis.x * rect.width / 2, hy = rect.axis.y * rect.width / 2;
  const float vx = -rect.axis.y * rect.height / 2, vy = rect.axis.x * rect.height / 2;
  std::array<Point, 4> p = {Point{rect.center.x - hx - vx, rect.center.y - hy - vy},
                            Point{rect.center.x + hx - vx, rect.center.y + hy - vy},
                            Point{rect.center.x + hx + vx, rect.center.y + hy + vy},
                            Point{rect.center.x - hx + vx, rect.center.y - hy + vy}};
  std::stable_sort(p.begin(), p.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
  const bool first_on_top = p[1].y > p[0].y;
  const bool third_on_top = p[3].y > p[2].y;
  const Point top_left = first_on_top ? p[0] : p[1], bottom_left = first_on_top ? p[1] : p[0];
  const Point top_right = third_on_top ? p[2] : p[3], bottom_right = third_on_top ? p[3] : p[2];
  return {top_left, top_right, bottom_right, bottom_left};
}

RotatedRect expand(const RotatedRect& rect, float distance) {
  RotatedRect grown = rect;
  grown.width += 2 * distance;
  grown.height += 2 * distance;
  return grown;
}

float shorter_side(const RotatedRect& rect) {
  return std::min(rect.width, rect.height);
}

}  // namespace osprey::vision::ocr
