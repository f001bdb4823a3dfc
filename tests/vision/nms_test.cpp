// Hard and weighted non-maximum suppression.
#include <gtest/gtest.h>

#include "vision/nms.h"

namespace osprey::vision {
namespace {

Detection det(float x0, float y0, float x1, float y1, float score, int class_id = 0,
              std::vector<Point> keypoints = {}) {
  Detection d;
  d.box = {x0, y0, x1, y1};
  d.score = score;
  d.class_id = class_id;
  d.keypoints = std::move(keypoints);
  return d;
}

TEST(Nms, Iou) {
  EXPECT_FLOAT_EQ(iou({0, 0, 2, 2}, {1, 1, 3, 3}), 1.0f / 7.0f);
  EXPECT_FLOAT_EQ(iou({0, 0, 1, 1}, {0, 0, 1, 1}), 1.0f);
  EXPECT_FLOAT_EQ(iou({0, 0, 1, 1}, {2, 2, 3, 3}), 0.0f);
  EXPECT_FLOAT_EQ(iou({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0f);
}

TEST(Nms, HardKeepsBestOfEachGroup) {
  const auto kept =
      hard_nms({det(0, 0, 10, 10, 0.6f), det(1, 1, 11, 11, 0.9f), det(20, 20, 30, 30, 0.5f)}, 0.3f,
               /*per_class=*/false);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
  EXPECT_FLOAT_EQ(kept[0].box.xmin, 1);
  EXPECT_FLOAT_EQ(kept[1].score, 0.5f);
}

TEST(Nms, HardPerClassKeepsOverlapsOfDifferentClasses) {
  const std::vector<Detection> input = {det(0, 0, 10, 10, 0.9f, 1), det(0, 0, 10, 10, 0.8f, 2),
                                        det(0, 1, 10, 11, 0.7f, 1)};
  EXPECT_EQ(hard_nms(input, 0.4f, /*per_class=*/true).size(), 2u);
  EXPECT_EQ(hard_nms(input, 0.4f, /*per_class=*/false).size(), 1u);
  EXPECT_EQ(hard_nms(input, 0.4f, true, /*max_detections=*/1).size(), 1u);
}

TEST(Nms, WeightedAveragesBoxesAndKeypointsByScore) {
  // Two overlapping boxes (IoU 0.68) with weights 0.75 and 0.25, one apart.
  const auto kept =
      weighted_nms({det(0, 0, 10, 10, 0.25f, 0, {{4, 4}}), det(2, 0, 12, 10, 0.75f, 0, {{8, 4}}),
                    det(50, 50, 60, 60, 0.6f, 0, {{55, 55}})},
                   0.3f);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.75f);  // the top score, not an average
  EXPECT_FLOAT_EQ(kept[0].box.xmin, 1.5f);
  EXPECT_FLOAT_EQ(kept[0].box.xmax, 11.5f);
  EXPECT_FLOAT_EQ(kept[0].box.ymax, 10.0f);
  ASSERT_EQ(kept[0].keypoints.size(), 1u);
  EXPECT_FLOAT_EQ(kept[0].keypoints[0].x, 7.0f);
  EXPECT_FLOAT_EQ(kept[1].score, 0.6f);
  EXPECT_FLOAT_EQ(kept[1].box.xmin, 50.0f);
}

TEST(Nms, WeightedClustersAroundTheBestBoxOnly) {
  // B overlaps A and C, but A and C do not overlap: C is clustered with B
  // only if B is the best; here A is best, so C survives on its own.
  const auto kept =
      weighted_nms({det(0, 0, 10, 10, 0.9f), det(4, 0, 14, 10, 0.8f), det(9, 0, 19, 10, 0.7f)}, 0.3f);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
  EXPECT_NEAR(kept[0].box.xmin, 0.8f * 4 / 1.7f, 1e-5);
  EXPECT_FLOAT_EQ(kept[1].score, 0.7f);
}

TEST(Nms, WeightedHandlesEmptyBoxesAndLimits) {
  const auto kept = weighted_nms({det(5, 5, 5, 5, 0.9f), det(0, 0, 10, 10, 0.8f)}, 0.3f);
  EXPECT_EQ(kept.size(), 2u);
  EXPECT_EQ(weighted_nms({det(0, 0, 1, 1, 0.9f), det(5, 5, 6, 6, 0.8f)}, 0.3f, 1).size(), 1u);
  EXPECT_TRUE(weighted_nms({}, 0.3f).empty());
}

}  // namespace
}  // namespace osprey::vision
