// Rotated ROIs (vision/landmarks/roi.h): MediaPipe's rotation convention, the
// rect transformations, the round trip image -> ROI -> image, and the warp.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.h"
#include "vision/landmarks/roi.h"

namespace osprey::vision {
namespace {

constexpr float kPi = std::numbers::pi_v<float>;

TEST(Roi, RotationFromKeypointsFollowsMediaPipe) {
  // Eyes level: no rotation for a 0 degree target.
  EXPECT_NEAR(rotation_from({10, 50}, {90, 50}, 0), 0, 1e-6);
  // The right-hand point lower on screen (image y down): the ROI turns clockwise (positive).
  EXPECT_NEAR(rotation_from({0, 0}, {10, 10}, 0), kPi / 4, 1e-6);
  // Hands: wrist -> knuckle pointing up is upright for a 90 degree target.
  EXPECT_NEAR(rotation_from({50, 90}, {50, 10}, kPi / 2), 0, 1e-6);
  // Pointing right: the hand lies on its side, turned a quarter anticlockwise.
  EXPECT_NEAR(rotation_from({10, 50}, {90, 50}, kPi / 2), kPi / 2, 1e-6);
  EXPECT_NEAR(normalize_radians(3 * kPi), -kPi, 1e-5);
  EXPECT_NEAR(normalize_radians(-kPi / 2), -kPi / 2, 1e-6);
}

TEST(Roi, ToImageAndBackIsTheIdentity) {
  const RotatedRect rect{120.5f, 80.25f, 64, 48, 0.7f};
  for (const Point uv :
       {Point{0, 0}, Point{1, 0}, Point{0.3f, 0.9f}, Point{0.5f, 0.5f}, Point{-0.2f, 1.4f}}) {
    const Point pixel = rect.to_image(uv);
    const Point back = rect.to_roi(pixel);
    EXPECT_NEAR(back.x, uv.x, 1e-5);
    EXPECT_NEAR(back.y, uv.y, 1e-5);
  }
  // The centre maps to the centre; the top-left corner is turned about it.
  const Point centre = rect.to_image({0.5f, 0.5f});
  EXPECT_NEAR(centre.x, 120.5f, 1e-4);
  EXPECT_NEAR(centre.y, 80.25f, 1e-4);
  const RotatedRect quarter{0, 0, 2, 2, kPi / 2};
  // A quarter turn clockwise sends the ROI's +x (right) to the image's +y (down).
  const Point right = quarter.to_image({1, 0.5f});
  EXPECT_NEAR(right.x, 0, 1e-5);
  EXPECT_NEAR(right.y, 1, 1e-5);
}

TEST(Roi, BoundsCoverTheTurnedCorners) {
  const Box b = RotatedRect{0, 0, 2, 2, kPi / 4}.bounds();
  EXPECT_NEAR(b.xmin, -std::sqrt(2.0f), 1e-5);
  EXPECT_NEAR(b.xmax, std::sqrt(2.0f), 1e-5);
  EXPECT_NEAR(b.ymin, -std::sqrt(2.0f), 1e-5);
}

TEST(Roi, TransformShiftsAlongTheRotatedAxesThenSquaresAndScales) {
  RectTransform t;
  t.scale_x = t.scale_y = 2.6f;
  t.shift_y = -0.5f;
  t.square_long = true;
  // Upright: the shift moves up by half the height.
  RotatedRect r = transform_rect({100, 100, 40, 20, 0}, t);
  EXPECT_NEAR(r.cx, 100, 1e-4);
  EXPECT_NEAR(r.cy, 90, 1e-4);
  EXPECT_NEAR(r.width, 104, 1e-4);
  EXPECT_NEAR(r.height, 104, 1e-4);
  // A quarter turn clockwise: the ROI's "up" is the image's +x.
  r = transform_rect({100, 100, 40, 20, kPi / 2}, t);
  EXPECT_NEAR(r.cx, 110, 1e-4);
  EXPECT_NEAR(r.cy, 100, 1e-4);
  RectTransform shortest;
  shortest.square_short = true;
  EXPECT_NEAR(transform_rect({0, 0, 40, 20, 0}, shortest).width, 20, 1e-6);
}

TEST(Roi, RectBuilders) {
  const RotatedRect box = rect_from_box({10, 20, 50, 40}, 0.3f);
  EXPECT_FLOAT_EQ(box.cx, 30);
  EXPECT_FLOAT_EQ(box.cy, 30);
  EXPECT_FLOAT_EQ(box.width, 40);
  EXPECT_FLOAT_EQ(box.height, 20);
  EXPECT_FLOAT_EQ(box.rotation, 0.3f);
  const RotatedRect aligned = rect_from_alignment_points({100, 100}, {100, 70}, 0);
  EXPECT_FLOAT_EQ(aligned.cx, 100);
  EXPECT_FLOAT_EQ(aligned.width, 60);
  EXPECT_FLOAT_EQ(aligned.height, 60);
  // Points on a 45-degree line: in a frame turned by 45 degrees they span one axis only.
  const Point points[] = {{0, 0}, {10, 10}, {20, 20}};
  const RotatedRect around = rect_around_points(points, kPi / 4);
  EXPECT_NEAR(around.cx, 10, 1e-4);
  EXPECT_NEAR(around.cy, 10, 1e-4);
  EXPECT_NEAR(around.width, std::sqrt(800.0f), 1e-3);
  EXPECT_NEAR(around.height, 0, 1e-3);
  EXPECT_THROW(rect_around_points({}, 0), Error);
}

Image coordinate_image(int width, int height) {
  Image image(width, height, 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.at(x, y);
      p[0] = static_cast<uint8_t>(x);
      p[1] = static_cast<uint8_t>(y);
      p[2] = 200;
    }
  }
  return image;
}

TEST(Roi, WarpReadsWhereTheRectSays) {
  const Image image = coordinate_image(64, 48);
  // Unrotated 32x32 rect from (10, 8): output pixel (i, j) is image pixel (10 + i, 8 + j).
  Image out = warp_roi(image, {26, 24, 32, 32, 0}, 32, 32, BorderMode::kZero);
  EXPECT_EQ(out.at(0, 0)[0], 10);
  EXPECT_EQ(out.at(0, 0)[1], 8);
  EXPECT_EQ(out.at(5, 7)[0], 15);
  EXPECT_EQ(out.at(5, 7)[1], 15);
  // Half-size output: each output pixel centred between four image pixels
  // (16 and 17 across, 12 and 13 down), so halfway between their values.
  out = warp_roi(image, {26, 24, 32, 32, 0}, 16, 16, BorderMode::kZero);
  EXPECT_NEAR(out.at(3, 2)[0], 16.5, 0.51);
  EXPECT_NEAR(out.at(3, 2)[1], 12.5, 0.51);
  // Quarter turn clockwise: the output's +x runs down the image. Output pixel
  // (4, 6)'s centre lands on image pixel (35, 12)'s centre.
  out = warp_roi(image, {26, 24, 32, 32, kPi / 2}, 32, 32, BorderMode::kZero);
  const Point expected = RotatedRect{26, 24, 32, 32, kPi / 2}.to_image({4.5f / 32, 6.5f / 32});
  EXPECT_NEAR(expected.x, 35.5f, 1e-4);
  EXPECT_NEAR(expected.y, 12.5f, 1e-4);
  EXPECT_EQ(out.at(4, 6)[0], 35);
  EXPECT_EQ(out.at(4, 6)[1], 12);
  EXPECT_EQ(out.at(5, 6)[1], 13);  // one step along the output's x is one pixel down
}

TEST(Roi, WarpBorderZeroOrReplicate) {
  const Image image = coordinate_image(20, 20);
  // A rect hanging over the left edge by 10 pixels.
  const RotatedRect rect{5, 10, 20, 20, 0};
  const Image zero = warp_roi(image, rect, 20, 20, BorderMode::kZero);
  const Image replicate = warp_roi(image, rect, 20, 20, BorderMode::kReplicate);
  EXPECT_EQ(zero.at(2, 10)[2], 0);
  EXPECT_EQ(replicate.at(2, 10)[2], 200);
  EXPECT_EQ(replicate.at(2, 10)[0], 0);  // clamped to column 0
  EXPECT_EQ(zero.at(15, 10)[0], 10);
  EXPECT_EQ(replicate.at(15, 10)[0], 10);
  // Absurd rects neither crash nor overflow.
  const Image far = warp_roi(image, {1e9f, -1e9f, 1e9f, 5, 1}, 8, 8, BorderMode::kReplicate);
  EXPECT_EQ(far.width, 8);
  EXPECT_THROW(warp_roi(image, {NAN, 0, 1, 1, 0}, 8, 8, BorderMode::kZero), Error);
  EXPECT_THROW(parse_border_mode("wrap"), Error);
}

TEST(Roi, ZeroBorderIsBlackOnlyOutsideThePicture) {
  const Image image = coordinate_image(20, 20);
  // One output pixel per image pixel, shifted left by half a pixel: output
  // column 0 samples x = 0, the picture's edge, and reads column 0 whole (not
  // half blended with black).
  const Image edge = warp_roi(image, {9.5f, 10, 20, 20, 0}, 20, 20, BorderMode::kZero);
  EXPECT_EQ(edge.at(0, 10)[2], 200);
  // Shifted by three quarters: column 0 samples x = -0.25, outside, so black;
  // column 1 samples x = 0.75, inside, and reads column 0 whole again.
  const Image outside = warp_roi(image, {9.25f, 10, 20, 20, 0}, 20, 20, BorderMode::kZero);
  EXPECT_EQ(outside.at(0, 10)[2], 0);
  EXPECT_EQ(outside.at(1, 10)[2], 200);
  EXPECT_EQ(outside.at(1, 10)[0], 0);
}

TEST(Roi, FloatWarpIsTheByteWarpUnrounded) {
  const Image image = coordinate_image(64, 48);
  // Half-size output: every sample lies between pixels, where bytes round.
  const RotatedRect rect{26, 24, 33, 31, 0.3f};
  const Image bytes = warp_roi(image, rect, 16, 16, BorderMode::kReplicate);
  std::vector<float> floats(16 * 16 * 3);
  warp_roi_to_floats(image, rect, 16, 16, BorderMode::kReplicate, -1.0f, 1.0f, floats.data());
  bool some_fraction = false;
  for (size_t i = 0; i < floats.size(); ++i) {
    const float level = (floats[i] + 1.0f) * 127.5f;  // back to [0, 255]
    EXPECT_NEAR(level, bytes.pixels[i], 0.5f + 1e-3f) << "value " << i;
    some_fraction |= std::abs(level - std::round(level)) > 0.1f;
  }
  EXPECT_TRUE(some_fraction);
  EXPECT_THROW(warp_roi_to_floats(image, rect, 0, 16, BorderMode::kZero, 0, 1, floats.data()), Error);
}

TEST(Roi, LetterboxRectPadsTheShortSideFractionally) {
  // 720x528 into a square input: 96 image rows above and below, which the
  // 192-pixel input shows as 25.6 rows each.
  const RotatedRect wide = letterbox_rect(720, 528, 192, 192);
  EXPECT_FLOAT_EQ(wide.cx, 360);
  EXPECT_FLOAT_EQ(wide.cy, 264);
  EXPECT_FLOAT_EQ(wide.width, 720);
  EXPECT_FLOAT_EQ(wide.height, 720);
  EXPECT_NEAR(wide.to_roi({0, 0}).y * 192, 25.6f, 1e-4);
  const RotatedRect tall = letterbox_rect(300, 600, 256, 128);
  EXPECT_FLOAT_EQ(tall.width, 1200);
  EXPECT_FLOAT_EQ(tall.height, 600);
  EXPECT_FLOAT_EQ(tall.rotation, 0);
  EXPECT_THROW(letterbox_rect(0, 10, 192, 192), Error);
}

}  // namespace
}  // namespace osprey::vision
