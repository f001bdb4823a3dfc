// Convex hull and minimum-area rectangle of a point set: how a blob of text
// pixels becomes an oriented box (the role of OpenCV's minAreaRect in
// PaddleOCR's DB post-processing).
#pragma once

#include <array>
#include <vector>

#include "vision/preprocess.h"

namespace osprey::vision::ocr {

// Four corners: top-left, top-right, bottom-right, bottom-left as PaddleOCR
// orders them (see order_box).
using Quad = std::array<Point, 4>;

struct RotatedRect {
  Point center;
  float width = 0, height = 0;  // along `axis` and across it
  Point axis{1, 0};             // unit direction of the width side
};

// Counter-clockwise hull (in y-down image coordinates: clockwise on screen)
// without collinear points; fewer than 3 points for degenerate sets.
std::vector<Point> convex_hull(std::vector<Point> points);

// The smallest-area rectangle containing the points. One of its sides lies
// on an edge of the convex hull, so each hull edge direction is tried.
RotatedRect min_area_rect(const std::vector<Point>& points);

// The rectangle's corners ordered like PaddleOCR's get_mini_boxes: by x, the
// left pair split into top-left/bottom-left by y, the right pair likewise.
Quad box_corners(const RotatedRect& rect);

// The rectangle grown by `distance` on every side.
RotatedRect expand(const RotatedRect& rect, float distance);

float shorter_side(const RotatedRect& rect);

}  // namespace osprey::vision::ocr
