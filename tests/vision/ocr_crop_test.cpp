// OCR crops: homography, perspective crop round trip, quarter and half turns.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "vision/ocr/perspective_crop.h"

namespace osprey::vision::ocr {
namespace {

// A smooth pattern, so bilinear resampling twice stays close to it.
uint8_t pattern(float x, float y) {
  return static_cast<uint8_t>(std::lround(128 + 100 * std::sin(x / 7) * std::cos(y / 5)));
}

Image pattern_image(int width, int height) {
  Image image(width, height, 1);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) *image.at(x, y) = pattern(static_cast<float>(x), static_cast<float>(y));
  }
  return image;
}

TEST(OcrCrop, HomographyMapsTheCorners) {
  const Quad from = {Point{0, 0}, Point{10, 0}, Point{10, 5}, Point{0, 5}};
  const Quad to = {Point{3, 4}, Point{40, 9}, Point{35, 30}, Point{1, 22}};
  const auto h = homography(from, to);
  ASSERT_TRUE(h.has_value());
  for (size_t i = 0; i < 4; ++i) {
    const Point p = apply(*h, from[i]);
    EXPECT_NEAR(p.x, to[i].x, 1e-4);
    EXPECT_NEAR(p.y, to[i].y, 1e-4);
  }
  const Quad collinear = {Point{0, 0}, Point{1, 1}, Point{2, 2}, Point{3, 3}};
  EXPECT_FALSE(homography(from, collinear).has_value());
}

TEST(OcrCrop, AxisAlignedQuadIsTheSubImage) {
  const Image image = pattern_image(80, 60);
  const Image crop = crop_quad(image, {Point{10, 20}, Point{50, 20}, Point{50, 41}, Point{10, 41}});
  ASSERT_EQ(crop.width, 40);
  ASSERT_EQ(crop.height, 21);
  for (int y = 0; y < crop.height; ++y) {
    for (int x = 0; x < crop.width; ++x)
      ASSERT_EQ(*crop.at(x, y), *image.at(x + 10, y + 20)) << x << "," << y;
  }
}

TEST(OcrCrop, PerspectiveRoundTrip) {
  // Warp a pattern into a skewed quad of a larger picture, then crop it back.
  const Image source = pattern_image(90, 30);
  const Quad quad = {Point{30, 40}, Point{125, 60}, Point{118, 98}, Point{24, 75}};
  const Quad rect = {Point{0, 0}, Point{90, 0}, Point{90, 30}, Point{0, 30}};
  const auto to_source = homography(quad, rect);
  ASSERT_TRUE(to_source.has_value());
  Image scene(160, 130, 1);
  for (int y = 0; y < scene.height; ++y) {
    for (int x = 0; x < scene.width; ++x) {
      const Point s = apply(*to_source, {static_cast<float>(x), static_cast<float>(y)});
      *scene.at(x, y) = pattern(s.x, s.y);
    }
  }
  const Image crop = crop_quad(scene, quad);
  // Width and height are the longer opposite sides of the quad.
  EXPECT_EQ(crop.width, static_cast<int>(std::max(std::hypot(95.0f, 20.0f), std::hypot(94.0f, 23.0f))));
  EXPECT_EQ(crop.height, static_cast<int>(std::max(std::hypot(6.0f, 35.0f), std::hypot(7.0f, 38.0f))));
  double error = 0;
  for (int y = 0; y < crop.height; ++y) {
    for (int x = 0; x < crop.width; ++x) {
      const float sx = static_cast<float>(x) * 90 / static_cast<float>(crop.width);
      const float sy = static_cast<float>(y) * 30 / static_cast<float>(crop.height);
      error += std::abs(static_cast<int>(*crop.at(x, y)) - static_cast<int>(pattern(sx, sy)));
    }
  }
  EXPECT_LT(error / (crop.width * crop.height), 6.0);
}

TEST(OcrCrop, DegenerateQuadsGiveNothing) {
  const Image image = pattern_image(20, 20);
  EXPECT_TRUE(crop_quad(image, {Point{5, 5}, Point{5, 5}, Point{5, 5}, Point{5, 5}}).empty());
  EXPECT_TRUE(crop_quad(image, {Point{0, 0}, Point{1e9f, 0}, Point{1e9f, 1e9f}, Point{0, 1e9f}}).empty());
  EXPECT_TRUE(crop_quad(Image(), {Point{0, 0}, Point{9, 0}, Point{9, 9}, Point{0, 9}}).empty());
}

TEST(OcrCrop, QuarterAndHalfTurns) {
  Image image(3, 2, 1);  // rows: 1 2 3 / 4 5 6
  for (int i = 0; i < 6; ++i) image.pixels[static_cast<size_t>(i)] = static_cast<uint8_t>(i + 1);
  const Image quarter = rotate_quarter_ccw(image);  // rows: 3 6 / 2 5 / 1 4
  ASSERT_EQ(quarter.width, 2);
  ASSERT_EQ(quarter.height, 3);
  EXPECT_EQ(quarter.pixels, (std::vector<uint8_t>{3, 6, 2, 5, 1, 4}));
  EXPECT_EQ(rotate_half(image).pixels, (std::vector<uint8_t>{6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(rotate_half(rotate_half(image)).pixels, image.pixels);
}

}  // namespace
}  // namespace osprey::vision::ocr
