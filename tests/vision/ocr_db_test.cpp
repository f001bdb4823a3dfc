// OCR detection geometry: hull, minimum-area rectangle, DB boxes (scoring,
// unclip, scaling) and reading order, on synthetic probability maps.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.h"
#include "vision/ocr/db_postprocess.h"
#include "vision/ocr/min_area_rect.h"

namespace osprey::vision::ocr {
namespace {

struct Map {
  int width, height;
  std::vector<float> values;
  Map(int w, int h) : width(w), height(h), values(static_cast<size_t>(w * h), 0.0f) {}
  void fill(int x0, int y0, int x1, int y1, float p) {  // inclusive
    for (int y = y0; y <= y1; ++y) {
      for (int x = x0; x <= x1; ++x) values[static_cast<size_t>(y * width + x)] = p;
    }
  }
  ProbabilityMap view() const { return {values, width, height}; }
};

float angle_degrees(Point a, Point b) {
  return static_cast<float>(std::atan2(b.y - a.y, b.x - a.x) * 180 / std::numbers::pi);
}

float side(Point a, Point b) {
  return std::hypot(a.x - b.x, a.y - b.y);
}

TEST(OcrGeometry, HullDropsInteriorAndCollinearPoints) {
  const std::vector<Point> hull =
      convex_hull({{0, 0}, {2, 0}, {4, 0}, {4, 3}, {0, 3}, {2, 1}, {1, 2}, {4, 0}});
  EXPECT_EQ(hull.size(), 4u);
  EXPECT_EQ(convex_hull({{1, 1}, {1, 1}}).size(), 1u);
}

TEST(OcrGeometry, MinAreaRectOfAxisAlignedBlock) {
  std::vector<Point> points;
  for (int y = 0; y <= 4; ++y) {
    for (int x = 0; x <= 9; ++x) points.push_back({static_cast<float>(x), static_cast<float>(y)});
  }
  const RotatedRect rect = min_area_rect(points);
  EXPECT_NEAR(rect.width * rect.height, 36.0f, 1e-4);
  EXPECT_NEAR(rect.center.x, 4.5f, 1e-4);
  EXPECT_NEAR(rect.center.y, 2.0f, 1e-4);
  const Quad q = box_corners(rect);
  EXPECT_NEAR(q[0].x, 0, 1e-4);  // top-left
  EXPECT_NEAR(q[0].y, 0, 1e-4);
  EXPECT_NEAR(q[1].x, 9, 1e-4);  // top-right
  EXPECT_NEAR(q[1].y, 0, 1e-4);
  EXPECT_NEAR(q[2].x, 9, 1e-4);  // bottom-right
  EXPECT_NEAR(q[2].y, 4, 1e-4);
  EXPECT_NEAR(q[3].x, 0, 1e-4);  // bottom-left
  EXPECT_NEAR(q[3].y, 4, 1e-4);
}

TEST(OcrGeometry, MinAreaRectOfRotatedRectangleCorners) {
  const double a = 25 * std::numbers::pi / 180;
  const auto corner = [a](double u, double v) {
    return Point{static_cast<float>(50 + u * std::cos(a) - v * std::sin(a)),
                 static_cast<float>(40 + u * std::sin(a) + v * std::cos(a))};
  };
  // Corners plus points along the edges and inside.
  std::vector<Point> points = {corner(-15, -4), corner(15, -4), corner(15, 4), corner(-15, 4),
                               corner(0, -4),   corner(3, 1),   corner(-15, 0)};
  const RotatedRect rect = min_area_rect(points);
  EXPECT_NEAR(std::max(rect.width, rect.height), 30.0f, 1e-3);
  EXPECT_NEAR(shorter_side(rect), 8.0f, 1e-3);
  const Quad q = box_corners(rect);
  EXPECT_NEAR(angle_degrees(q[0], q[1]), 25.0f, 1e-2);
  const RotatedRect grown = expand(rect, 2);
  EXPECT_NEAR(shorter_side(grown), 12.0f, 1e-3);
}

TEST(OcrDb, AxisAlignedRegionIsScoredGrownAndScaled) {
  Map map(100, 40);
  map.fill(20, 10, 59, 19, 0.9f);
  // Pixel centres span 39 x 9: area 351, perimeter 96, so the box grows by
  // 351 * 1.5 / 96 = 5.48 on every side.
  const std::vector<TextBox> boxes = db_boxes(map.view(), 100, 40);
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_NEAR(boxes[0].score, 0.9f, 1e-5);
  const Quad& q = boxes[0].quad;
  EXPECT_FLOAT_EQ(q[0].x, 15);
  EXPECT_FLOAT_EQ(q[0].y, 5);
  EXPECT_FLOAT_EQ(q[1].x, 64);
  EXPECT_FLOAT_EQ(q[1].y, 5);
  EXPECT_FLOAT_EQ(q[2].x, 64);
  EXPECT_FLOAT_EQ(q[2].y, 24);
  EXPECT_FLOAT_EQ(q[3].x, 15);
  EXPECT_FLOAT_EQ(q[3].y, 24);

  // The same map for a picture twice the size: coordinates scale, then round.
  const std::vector<TextBox> scaled = db_boxes(map.view(), 200, 80);
  ASSERT_EQ(scaled.size(), 1u);
  EXPECT_FLOAT_EQ(scaled[0].quad[0].x, 29);  // 14.52 * 2
  EXPECT_FLOAT_EQ(scaled[0].quad[2].y, 49);  // 24.48 * 2
}

TEST(OcrDb, RotatedRegion) {
  Map map(120, 100);
  const double a = -20 * std::numbers::pi / 180;
  for (int y = 0; y < map.height; ++y) {
    for (int x = 0; x < map.width; ++x) {
      const double dx = x - 60, dy = y - 50;
      const double u = dx * std::cos(a) + dy * std::sin(a), v = -dx * std::sin(a) + dy * std::cos(a);
      if (std::abs(u) <= 30 && std::abs(v) <= 7) map.values[static_cast<size_t>(y * map.width + x)] = 0.8f;
    }
  }
  const std::vector<TextBox> boxes = db_boxes(map.view(), 120, 100);
  ASSERT_EQ(boxes.size(), 1u);
  const Quad& q = boxes[0].quad;
  EXPECT_NEAR(angle_degrees(q[0], q[1]), -20.0f, 2.0f);
  // 60 x 14, grown by area * 1.5 / perimeter = 840 * 1.5 / 148 = 8.5 each side.
  EXPECT_NEAR(side(q[0], q[1]), 77.0f, 2.5f);
  EXPECT_NEAR(side(q[0], q[3]), 31.0f, 2.5f);
  EXPECT_NEAR((q[0].x + q[2].x) / 2, 60.0f, 1.0f);
  EXPECT_NEAR((q[0].y + q[2].y) / 2, 50.0f, 1.0f);
}

TEST(OcrDb, WeakSmallAndEmptyRegionsAreDropped) {
  Map map(60, 30);
  map.fill(5, 5, 40, 12, 0.45f);    // text by thresh, but its mean is below box_thresh
  map.fill(50, 20, 51, 21, 0.99f);  // shorter side 1 < min_size
  EXPECT_TRUE(db_boxes(map.view(), 60, 30).empty());
  DbParams lenient;
  lenient.box_thresh = 0.4f;
  EXPECT_EQ(db_boxes(map.view(), 60, 30, lenient).size(), 1u);
  EXPECT_TRUE(db_boxes(Map(8, 8).view(), 8, 8).empty());
}

TEST(OcrDb, MaxCandidatesBoundsTheRegionsLookedAt) {
  Map map(100, 20);
  map.fill(2, 2, 30, 12, 0.9f);
  map.fill(50, 2, 90, 12, 0.9f);
  DbParams one;
  one.max_candidates = 1;
  EXPECT_EQ(db_boxes(map.view(), 100, 20).size(), 2u);
  EXPECT_EQ(db_boxes(map.view(), 100, 20, one).size(), 1u);
}

TEST(OcrDb, MeanInsideCountsPixelCentresInTheQuad) {
  Map map(10, 10);
  map.fill(0, 0, 4, 9, 1.0f);  // left half
  EXPECT_NEAR(mean_inside(map.view(), {Point{0, 0}, Point{9, 0}, Point{9, 9}, Point{0, 9}}), 0.5f, 1e-6);
  EXPECT_NEAR(mean_inside(map.view(), {Point{0, 0}, Point{4, 0}, Point{4, 9}, Point{0, 9}}), 1.0f, 1e-6);
}

// A bent band (a photographed page's curled line): its rectangle takes in
// much background, so "fast" scores it low; "slow" scores the band itself.
TEST(OcrDb, SlowScoreKeepsACurvedLine) {
  Map map(100, 40);
  for (int x = 5; x < 95; ++x) {
    const int top = 8 + static_cast<int>(std::lround((x - 50) * (x - 50) / 110.0));
    map.fill(x, top, x, top + 3, 0.9f);
  }
  EXPECT_TRUE(db_boxes(map.view(), 100, 40).empty());
  DbParams slow;
  slow.score_mode = ScoreMode::kSlow;
  const std::vector<TextBox> boxes = db_boxes(map.view(), 100, 40, slow);
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_NEAR(boxes[0].score, 0.9f, 1e-5);
}

TEST(OcrDb, SlowScoreCountsHolesInsideTheRegion) {
  Map map(30, 30);
  map.fill(5, 5, 14, 14, 0.9f);
  map.fill(8, 8, 11, 11, 0.0f);  // a 4x4 hole: 84 pixels at 0.9, 16 at 0
  DbParams slow;
  slow.score_mode = ScoreMode::kSlow;
  slow.box_thresh = 0.5f;
  const std::vector<TextBox> boxes = db_boxes(map.view(), 30, 30, slow);
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_NEAR(boxes[0].score, 0.9f * 84 / 100, 1e-5);
}

TEST(OcrDb, DilationJoinsRegionsOnePixelApart) {
  Map map(60, 20);
  map.fill(5, 5, 20, 10, 0.9f);
  map.fill(22, 5, 50, 10, 0.9f);  // column 21 is the gap
  EXPECT_EQ(db_boxes(map.view(), 60, 20).size(), 2u);
  DbParams dilated;
  dilated.use_dilation = true;
  EXPECT_EQ(db_boxes(map.view(), 60, 20, dilated).size(), 1u);
}

TEST(OcrDb, BadMapIsAnError) {
  const std::vector<float> values(10, 0.0f);
  EXPECT_THROW(db_boxes({values, 4, 4}, 4, 4), Error);
  EXPECT_THROW(db_boxes({values, 0, 10}, 4, 4), Error);
  EXPECT_THROW(db_boxes({values, 5, 2}, 0, 4), Error);
}

TextBox box_at(float x, float y) {
  return {{Point{x, y}, Point{x + 20, y}, Point{x + 20, y + 8}, Point{x, y + 8}}, 1.0f};
}

TEST(OcrDb, ReadingOrderIsRowsThenColumns) {
  std::vector<TextBox> boxes = {box_at(100, 52), box_at(10, 50), box_at(50, 5), box_at(5, 7), box_at(60, 58)};
  sort_reading_order(boxes);
  const std::vector<std::pair<float, float>> expected = {{5, 7}, {50, 5}, {10, 50}, {60, 58}, {100, 52}};
  ASSERT_EQ(boxes.size(), expected.size());
  for (size_t i = 0; i < boxes.size(); ++i) {
    EXPECT_EQ(boxes[i].quad[0].x, expected[i].first) << i;
    EXPECT_EQ(boxes[i].quad[0].y, expected[i].second) << i;
  }
}

}  // namespace
}  // namespace osprey::vision::ocr
