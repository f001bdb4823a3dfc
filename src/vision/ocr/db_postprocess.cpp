// Binarise, find 8-connected regions, fit, score, grow and scale their boxes.
#include "vision/ocr/db_postprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/error.h"

namespace osprey::vision::ocr {
namespace {

struct Region {
  std::vector<Point> extremes;  // the leftmost and rightmost pixel of every row
  std::vector<int> pixels;      // every pixel, as map indices
  int left = 0, top = 0, right = 0, bottom = 0;
};

// One 8-connected region, cleared from `text`. Its convex hull is the hull
// of the row extremes, so those are what the box is fitted to.
Region take_region(std::vector<uint8_t>& text, int width, int height, int start) {
  Region region;
  std::vector<int> stack = {start};
  text[static_cast<size_t>(start)] = 0;
  std::vector<int> row_min(static_cast<size_t>(height), width), row_max(static_cast<size_t>(height), -1);
  region.left = width;
  region.top = height;
  region.right = region.bottom = -1;
  while (!stack.empty()) {
    const int index = stack.back();
    stack.pop_back();
    region.pixels.push_back(index);
    const int x = index % width, y = index / width;
    row_min[static_cast<size_t>(y)] = std::min(row_min[static_cast<size_t>(y)], x);
    row_max[static_cast<size_t>(y)] = std::max(row_max[static_cast<size_t>(y)], x);
    region.left = std::min(region.left, x);
    region.right = std::max(region.right, x);
    region.top = std::min(region.top, y);
    region.bottom = std::max(region.bottom, y);
    for (int dy = -1; dy <= 1; ++dy) {
      for (int dx = -1; dx <= 1; ++dx) {
        const int nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const size_t n = static_cast<size_t>(ny) * static_cast<size_t>(width) + static_cast<size_t>(nx);
        if (text[n] == 0) continue;
        text[n] = 0;
        stack.push_back(static_cast<int>(n));
      }
    }
  }
  for (int y = region.top; y <= region.bottom; ++y) {
    const auto r = static_cast<size_t>(y);
    region.extremes.push_back({static_cast<float>(row_min[r]), static_cast<float>(y)});
    if (row_max[r] != row_min[r]) {
      region.extremes.push_back({static_cast<float>(row_max[r]), static_cast<float>(y)});
    }
  }
  return region;
}

// PaddleOCR's box_score_slow: the mean over the region's outline filled,
// i.e. the region and the holes inside it. A curved line scores as the text
// it is, where its bounding rectangle would take in the background.
float mean_over_region(const ProbabilityMap& map, const Region& region) {
  // A local mask with a one-pixel frame: 1 region, 2 background reached
  // from the frame (4-connected), 0 holes.
  const int w = region.right - region.left + 3, h = region.bottom - region.top + 3;
  std::vector<uint8_t> mask(static_cast<size_t>(w) * static_cast<size_t>(h), 0);
  const auto local = [&](int index) {
    const int x = index % map.width - region.left + 1, y = index / map.width - region.top + 1;
    return static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x);
  };
  for (const int index : region.pixels) mask[local(index)] = 1;
  std::vector<size_t> stack = {0};
  mask[0] = 2;
  while (!stack.empty()) {
    const size_t i = stack.back();
    stack.pop_back();
    const int x = static_cast<int>(i % static_cast<size_t>(w)),
              y = static_cast<int>(i / static_cast<size_t>(w));
    const int next[4][2] = {{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}};
    for (const auto& [nx, ny] : next) {
      if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
      const size_t n = static_cast<size_t>(ny) * static_cast<size_t>(w) + static_cast<size_t>(nx);
      if (mask[n] != 0) continue;
      mask[n] = 2;
      stack.push_back(n);
    }
  }
  double sum = 0;
  int64_t count = 0;
  for (int y = 1; y < h - 1; ++y) {
    for (int x = 1; x < w - 1; ++x) {
      if (mask[static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x)] == 2) continue;
      const int mx = x - 1 + region.left, my = y - 1 + region.top;
      sum += map.values[static_cast<size_t>(my) * static_cast<size_t>(map.width) + static_cast<size_t>(mx)];
      ++count;
    }
  }
  return count == 0 ? 0.0f : static_cast<float>(sum / static_cast<double>(count));
}

// PaddleOCR's use_dilation: a 2x2 dilation, which grows every region by a
// pixel to the right and down (OpenCV's anchor for an even kernel).
void dilate(std::vector<uint8_t>& text, int width, int height) {
  for (int y = height - 1; y >= 0; --y) {
    for (int x = width - 1; x >= 0; --x) {
      const auto at = [&](int xx, int yy) {
        return text[static_cast<size_t>(yy) * static_cast<size_t>(width) + static_cast<size_t>(xx)];
      };
      const bool set = at(x, y) != 0 || (x > 0 && at(x - 1, y) != 0) || (y > 0 && at(x, y - 1) != 0) ||
                       (x > 0 && y > 0 && at(x - 1, y - 1) != 0);
      text[static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)] = set ? 1 : 0;
    }
  }
}

double polygon_area(const Quad& q) {
  double twice = 0;
  for (size_t i = 0; i < 4; ++i) {
    const Point& a = q[i];
    const Point& b = q[(i + 1) % 4];
    twice += static_cast<double>(a.x) * b.y - static_cast<double>(b.x) * a.y;
  }
  return std::abs(twice) / 2;
}

double polygon_perimeter(const Quad& q) {
  double length = 0;
  for (size_t i = 0; i < 4; ++i) length += std::hypot(q[i].x - q[(i + 1) % 4].x, q[i].y - q[(i + 1) % 4].y);
  return length;
}

float scale_coordinate(float value, int from, int to) {
  // + 0 turns a rounded -0 into 0, so it does not print as "-0".
  return std::clamp(std::round(value / static_cast<float>(from) * static_cast<float>(to)) + 0.0f, 0.0f,
                    static_cast<float>(to));
}

}  // namespace

float mean_inside(const ProbabilityMap& map, const Quad& quad) {
  float lo_x = quad[0].x, hi_x = quad[0].x, lo_y = quad[0].y, hi_y = quad[0].y;
  for (const Point& p : quad) {
    lo_x = std::min(lo_x, p.x);
    hi_x = std::max(hi_x, p.x);
    lo_y = std::min(lo_y, p.y);
    hi_y = std::max(hi_y, p.y);
  }
  const int x0 = std::clamp(static_cast<int>(std::floor(lo_x)), 0, map.width - 1);
  const int x1 = std::clamp(static_cast<int>(std::ceil(hi_x)), 0, map.width - 1);
  const int y0 = std::clamp(static_cast<int>(std::floor(lo_y)), 0, map.height - 1);
  const int y1 = std::clamp(static_cast<int>(std::ceil(hi_y)), 0, map.height - 1);
  // Inside a convex quad = on the same side of all four edges (either winding).
  const auto inside = [&quad](float x, float y) {
    int positive = 0, negative = 0;
    for (size_t i = 0; i < 4; ++i) {
      const Point& a = quad[i];
      const Point& b = quad[(i + 1) % 4];
      const double side =
          (static_cast<double>(b.x) - a.x) * (y - a.y) - (static_cast<double>(b.y) - a.y) * (x - a.x);
      if (side > 1e-6) ++positive;
      if (side < -1e-6) ++negative;
    }
    return positive == 0 || negative == 0;
  };
  double sum = 0;
  int64_t count = 0;
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      if (!inside(static_cast<float>(x), static_cast<float>(y))) continue;
      sum += map.values[static_cast<size_t>(y) * static_cast<size_t>(map.width) + static_cast<size_t>(x)];
      ++count;
    }
  }
  return count == 0 ? 0.0f : static_cast<float>(sum / static_cast<double>(count));
}

std::vector<TextBox> db_boxes(const ProbabilityMap& map, int image_width, int image_height,
                              const DbParams& params) {
  OSPREY_CHECK(map.width > 0 && map.height > 0 &&
                   map.values.size() == static_cast<size_t>(map.width) * static_cast<size_t>(map.height),
               "text detection: a {}x{} map needs {} values, got {}", map.width, map.height,
               static_cast<int64_t>(map.width) * map.height, map.values.size());
  OSPREY_CHECK(image_width > 0 && image_height > 0, "text detection: empty image {}x{}", image_width,
               image_height);
  std::vector<uint8_t> text(map.values.size());
  for (size_t i = 0; i < text.size(); ++i) text[i] = map.values[i] > params.thresh ? 1 : 0;
  if (params.use_dilation) dilate(text, map.width, map.height);

  std::vector<TextBox> boxes;
  int regions = 0;
  for (size_t start = 0; start < text.size() && regions < params.max_candidates; ++start) {
    if (text[start] == 0) continue;
    ++regions;
    const Region region = take_region(text, map.width, map.height, static_cast<int>(start));
    const RotatedRect rect = min_area_rect(region.extremes);
    if (shorter_side(rect) < params.min_size) continue;
    const Quad box = box_corners(rect);
    const float score =
        params.score_mode == ScoreMode::kSlow ? mean_over_region(map, region) : mean_inside(map, box);
    if (!(score >= params.box_thresh)) continue;  // NaN scores too
    // The detector is trained on text shrunk by this offset (Vatti clipping
    // with round joins); growing a rectangle that way keeps it a rectangle.
    const double perimeter = polygon_perimeter(box);
    const double distance = perimeter > 0 ? polygon_area(box) * params.unclip_ratio / perimeter : 0;
    const RotatedRect grown = expand(rect, static_cast<float>(distance));
    if (shorter_side(grown) < params.min_size + 2) continue;
    TextBox result{box_corners(grown), score};
    for (Point& p : result.quad) {
      p.x = scale_coordinate(p.x, map.width, image_width);
      p.y = scale_coordinate(p.y, map.height, image_height);
    }
    boxes.push_back(result);
  }
  return boxes;
}

void sort_reading_order(std::vector<TextBox>& boxes) {
  std::stable_sort(boxes.begin(), boxes.end(), [](const TextBox& a, const TextBox& b) {
    return a.quad[0].y < b.quad[0].y || (a.quad[0].y == b.quad[0].y && a.quad[0].x < b.quad[0].x);
  });
  // Boxes on one line can start a few pixels apart in y; order those by x.
  for (size_t i = 0; i + 1 < boxes.size(); ++i) {
    for (size_t j = i + 1; j > 0; --j) {
      const Point& later = boxes[j].quad[0];
      const Point& earlier = boxes[j - 1].quad[0];
      if (std::abs(later.y - earlier.y) < 10 && later.x < earlier.x) {
        std::swap(boxes[j], boxes[j - 1]);
      } else {
        break;
      }
    }
  }
}

}  // namespace osprey::vision::ocr
