// SSD anchor generation against MediaPipe's SsdAnchorsCalculator, for the
// zoo's configurations (read from zoo/models.json).
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "vision/anchors.h"
#include "vision/heads/detection_head.h"
#include "vision/model_metadata.h"
#include "vision/test_images.h"

namespace osprey::vision {
namespace {

SsdAnchorOptions anchors_of(const std::string& model) {
  const ModelSpec spec = load_model_spec(testing::manifest_path(), model);
  return spec.head_as<DetectionHead>().params().anchors;
}

void expect_anchor(const Anchor& a, float x, float y, float w, float h) {
  EXPECT_NEAR(a.x_center, x, 1e-5);
  EXPECT_NEAR(a.y_center, y, 1e-5);
  EXPECT_NEAR(a.w, w, 1e-5);
  EXPECT_NEAR(a.h, h, 1e-5);
}

TEST(Anchors, FaceShortRange) {
  const auto anchors = generate_ssd_anchors(anchors_of("face_detection_short_range"));
  ASSERT_EQ(anchors.size(), 896u);
  // 16x16 map with 2 anchors per cell, then 8x8 with 6 (three stride-16 layers).
  expect_anchor(anchors[0], 0.5f / 16, 0.5f / 16, 1, 1);
  expect_anchor(anchors[1], 0.5f / 16, 0.5f / 16, 1, 1);
  expect_anchor(anchors[2], 1.5f / 16, 0.5f / 16, 1, 1);
  expect_anchor(anchors[512], 0.5f / 8, 0.5f / 8, 1, 1);
  expect_anchor(anchors.back(), 7.5f / 8, 7.5f / 8, 1, 1);
}

TEST(Anchors, FaceFullRangePalmAndPose) {
  EXPECT_EQ(generate_ssd_anchors(anchors_of("face_detection_full_range")).size(), 2304u);
  const auto full = generate_ssd_anchors(anchors_of("face_detection_full_range"));
  expect_anchor(full[0], 0.5f / 48, 0.5f / 48, 1, 1);
  expect_anchor(full[1], 1.5f / 48, 0.5f / 48, 1, 1);  // one anchor per cell
  EXPECT_EQ(generate_ssd_anchors(anchors_of("palm_detection_full")).size(), 2016u);
  EXPECT_EQ(generate_ssd_anchors(anchors_of("pose_detection")).size(), 2254u);
}

TEST(Anchors, OidSsdMobileNet) {
  const auto anchors = generate_ssd_anchors(anchors_of("object_detection_ssd_mobilenetv2_oidv4_fp16"));
  ASSERT_EQ(anchors.size(), 1917u);
  // Lowest layer (19x19, reduced): scale 0.1 at ratio 1, then ratio 2 and 0.5 at 0.2.
  expect_anchor(anchors[0], 0.5f / 19, 0.5f / 19, 0.1f, 0.1f);
  expect_anchor(anchors[1], 0.5f / 19, 0.5f / 19, 0.2f * std::sqrt(2.0f), 0.2f / std::sqrt(2.0f));
  expect_anchor(anchors[2], 0.5f / 19, 0.5f / 19, 0.2f / std::sqrt(2.0f), 0.2f * std::sqrt(2.0f));
  // Second layer (10x10) starts at 19*19*3 with scale 0.35 and 6 anchors per cell.
  expect_anchor(anchors[1083], 0.05f, 0.05f, 0.35f, 0.35f);
  // Last: the 1x1 layer's interpolated anchor, sqrt(0.95 * 1.0).
  expect_anchor(anchors.back(), 0.5f, 0.5f, std::sqrt(0.95f), std::sqrt(0.95f));
}

TEST(Anchors, RejectsInconsistentOptions) {
  SsdAnchorOptions o;
  o.input_width = o.input_height = 128;
  o.num_layers = 2;
  o.strides = {8};
  EXPECT_THROW(generate_ssd_anchors(o), Error);
  o.strides = {8, 0};
  EXPECT_THROW(generate_ssd_anchors(o), Error);
}

}  // namespace
}  // namespace osprey::vision
