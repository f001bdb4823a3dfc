// Box/keypoint decoding and scoring on hand-made tensors.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "vision/box_decoder.h"
#include "vision/scoring.h"

namespace osprey::vision {
namespace {

float logit(float p) {
  return std::log(p / (1.0f - p));
}

TEST(BoxDecoder, BlazeFaceLayoutWithKeypoints) {
  // Two anchors, 128x128 input, [x, y, w, h, kx, ky] per box.
  BoxDecoderOptions o;
  o.num_boxes = 2;
  o.num_coords = 6;
  o.keypoint_coord_offset = 4;
  o.num_keypoints = 1;
  o.x_scale = o.y_scale = o.w_scale = o.h_scale = 128;
  o.reverse_output_order = true;
  o.score_clipping_thresh = 100;
  o.min_score_thresh = 0.5f;
  const std::vector<Anchor> anchors = {{0.25f, 0.25f, 1, 1}, {0.75f, 0.5f, 1, 1}};
  const std::vector<float> boxes = {
      12.8f, -6.4f, 32, 64, 6.4f, 12.8f,  // anchor 0: centre moves by +0.1, -0.05
      0,     0,     10, 10, 0,    0,      // anchor 1
  };
  const std::vector<float> scores = {logit(0.9f), logit(0.2f)};
  const auto found = decode_boxes(boxes, scores, anchors, o);
  ASSERT_EQ(found.size(), 1u);
  const Detection& d = found[0];
  EXPECT_NEAR(d.score, 0.9f, 1e-5);
  EXPECT_EQ(d.class_id, 0);
  // centre (0.35, 0.2), size 0.25 x 0.5
  EXPECT_NEAR(d.box.xmin, 0.35f - 0.125f, 1e-6);
  EXPECT_NEAR(d.box.xmax, 0.35f + 0.125f, 1e-6);
  EXPECT_NEAR(d.box.ymin, 0.2f - 0.25f, 1e-6);
  EXPECT_NEAR(d.box.ymax, 0.2f + 0.25f, 1e-6);
  ASSERT_EQ(d.keypoints.size(), 1u);
  EXPECT_NEAR(d.keypoints[0].x, 0.3f, 1e-6);
  EXPECT_NEAR(d.keypoints[0].y, 0.35f, 1e-6);
}

TEST(BoxDecoder, ClassicSsdCenterSizeCoder) {
  // [ty, tx, th, tw] with scales 10, 10, 5, 5 and exp() on sizes.
  BoxDecoderOptions o;
  o.num_boxes = 1;
  o.num_classes = 3;
  o.num_coords = 4;
  o.x_scale = o.y_scale = 10;
  o.w_scale = o.h_scale = 5;
  o.apply_exponential_on_box_size = true;
  o.ignore_classes = {0};
  o.min_score_thresh = 0.5f;
  const std::vector<Anchor> anchors = {{0.5f, 0.4f, 0.2f, 0.1f}};
  const float th = 5 * std::log(2.0f);  // height doubles
  const std::vector<float> boxes = {1.0f, -2.0f, th, 0.0f};
  // Background scores highest but is ignored; class 2 wins over class 1.
  const std::vector<float> scores = {logit(0.99f), logit(0.6f), logit(0.8f)};
  const auto found = decode_boxes(boxes, scores, anchors, o);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].class_id, 2);
  EXPECT_NEAR(found[0].score, 0.8f, 1e-5);
  // y = 0.4 + 1/10 * 0.1 = 0.41, x = 0.5 - 2/10 * 0.2 = 0.46, h = 0.2, w = 0.2
  EXPECT_NEAR(found[0].box.ymin, 0.41f - 0.1f, 1e-6);
  EXPECT_NEAR(found[0].box.ymax, 0.41f + 0.1f, 1e-6);
  EXPECT_NEAR(found[0].box.xmin, 0.46f - 0.1f, 1e-6);
  EXPECT_NEAR(found[0].box.xmax, 0.46f + 0.1f, 1e-6);
}

TEST(BoxDecoder, ScoreClippingSoftmaxAndBadBoxes) {
  BoxDecoderOptions o;
  o.num_boxes = 2;
  o.num_coords = 4;
  o.reverse_output_order = true;
  o.score_clipping_thresh = 2.0f;  // logits clamp to +-2
  o.min_score_thresh = 0.0f;
  const std::vector<Anchor> anchors = {{0.5f, 0.5f, 1, 1}, {0.5f, 0.5f, 1, 1}};
  const std::vector<float> boxes = {0, 0, 0.1f, 0.1f, 0, 0, -0.1f, 0.1f};  // second has negative width
  const auto found = decode_boxes(boxes, std::vector<float>{50.0f, 50.0f}, anchors, o);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NEAR(found[0].score, sigmoid(2.0f), 1e-6);

  BoxDecoderOptions s = o;
  s.num_boxes = 1;
  s.num_classes = 2;
  s.activation = ScoreActivation::kSoftmax;
  s.ignore_classes = {0};
  const auto soft =
      decode_boxes(std::vector<float>{0, 0, 0.1f, 0.1f}, std::vector<float>{0.0f, std::log(3.0f)},
                   std::vector<Anchor>{{0.5f, 0.5f, 1, 1}}, s);
  ASSERT_EQ(soft.size(), 1u);
  EXPECT_NEAR(soft[0].score, 0.75f, 1e-6);
}

TEST(BoxDecoder, RejectsWrongTensorSizes) {
  BoxDecoderOptions o;
  o.num_boxes = 2;
  o.num_coords = 4;
  const std::vector<Anchor> anchors(2);
  EXPECT_THROW(decode_boxes(std::vector<float>(7), std::vector<float>(2), anchors, o), Error);
  EXPECT_THROW(decode_boxes(std::vector<float>(8), std::vector<float>(3), anchors, o), Error);
  o.num_keypoints = 1;  // after the box: does not fit in 4 coords
  o.keypoint_coord_offset = 4;
  EXPECT_THROW(validate(o), Error);
}

TEST(Scoring, SoftmaxAndTopK) {
  std::vector<float> p(3);
  softmax(std::vector<float>{1000.0f, 1000.0f, -1000.0f}, p);  // stable for huge logits
  EXPECT_NEAR(p[0], 0.5f, 1e-6);
  EXPECT_NEAR(p[2], 0.0f, 1e-6);
  const auto best = top_k(std::vector<float>{0.1f, 0.7f, 0.3f, 0.7f}, 3);
  ASSERT_EQ(best.size(), 3u);
  EXPECT_EQ(best[0].class_id, 1);
  EXPECT_EQ(best[1].class_id, 3);
  EXPECT_EQ(best[2].class_id, 2);
  EXPECT_EQ(top_k(std::vector<float>{0.5f}, 5).size(), 1u);
}

}  // namespace
}  // namespace osprey::vision
