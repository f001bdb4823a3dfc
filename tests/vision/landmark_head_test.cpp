// The "landmarks" head on synthetic output tensors: projection from the model
// input through a rotated ROI to image pixels, presence, handedness,
// visibility, heatmap refinement, the ROI recipes, and one-line manifest errors.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>

#include "core/error.h"
#include "vision/heads/landmark_head.h"
#include "vision/model_metadata.h"
#include "vision/test_images.h"

namespace osprey::vision {
namespace {

using nlohmann::json;

using testing::float_tensor;

// A 3-landmark model with a 100x100 input; hand-style extras on request.
json landmark_head_json() {
  return {{"type", "landmarks"},
          {"input", {{"width", 100}, {"height", 100}, {"range", {0.0, 1.0}}}},
          {"landmarks", {{"output", 0}, {"count", 3}, {"values_per_landmark", 3}, {"normalize_z", 0.5}}},
          {"presence", {{"output", 1}, {"activation", "sigmoid"}, {"threshold", 0.5}}},
          {"roi_from_detection",
           {{"detector", "d"},
            {"method", "box"},
            {"rotation_start", 0},
            {"rotation_end", {1}},
            {"target_angle_degrees", 90.0},
            {"scale_x", 2.0},
            {"scale_y", 2.0},
            {"shift_y", -0.5},
            {"square_long", true}}},
          {"roi_from_landmarks",
           {{"method", "alignment"},
            {"rotation_start", 0},
            {"rotation_end", {1}},
            {"scale_x", 1.5},
            {"scale_y", 1.5}}},
          {"connections", {{0, 1}, {1, 2}}}};
}

LandmarkHead parse_landmark_head(const json& head) {
  auto parsed = LandmarkHead::parse(ManifestFields(head, "m.head"));
  return *std::dynamic_pointer_cast<const LandmarkHead>(parsed);
}

std::string landmark_parse_error(const json& head) {
  try {
    (void)LandmarkHead::parse(ManifestFields(head, "m.head"));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(LandmarkHead, ProjectsThroughTheRotatedRoi) {
  const LandmarkHead head = parse_landmark_head(landmark_head_json());
  // Points at the input's centre, its top-left corner and right edge middle.
  std::vector<float> points = {50, 50, 10, 0, 0, -20, 100, 50, 0};
  std::vector<float> flag = {2.0f};  // logit: sigmoid 0.88
  const Tensor t0 = float_tensor({1, 9}, points), t1 = float_tensor({1, 1}, flag);
  const ModelOutputs outputs("m", {&t0, &t1});
  // A 40-pixel ROI centred on (200, 100), turned a quarter clockwise.
  const RotatedRect roi{200, 100, 40, 40, std::numbers::pi_v<float> / 2};
  const LandmarkResult r = head.decode(outputs, roi);
  EXPECT_NEAR(r.presence, 1 / (1 + std::exp(-2.0f)), 1e-6);
  EXPECT_TRUE(r.present);
  ASSERT_EQ(r.landmarks.size(), 3u);
  EXPECT_NEAR(r.landmarks[0].x, 200, 1e-3);
  EXPECT_NEAR(r.landmarks[0].y, 100, 1e-3);
  // z: 10 / 100 input pixels / normalize_z 0.5 = 0.2 of the ROI width.
  EXPECT_NEAR(r.landmarks[0].z, 8, 1e-4);
  // The input's top-left corner is the ROI's, turned: (200 + 20, 100 - 20).
  EXPECT_NEAR(r.landmarks[1].x, 220, 1e-3);
  EXPECT_NEAR(r.landmarks[1].y, 80, 1e-3);
  // The input's right edge is the image's bottom after a clockwise quarter turn.
  EXPECT_NEAR(r.landmarks[2].x, 200, 1e-3);
  EXPECT_NEAR(r.landmarks[2].y, 120, 1e-3);
  EXPECT_TRUE(r.handedness.empty());
  EXPECT_TRUE(r.visibility.empty());

  flag[0] = -1.0f;
  EXPECT_FALSE(head.decode(outputs, roi).present);
}

TEST(LandmarkHead, HandednessAndVisibility) {
  json j = landmark_head_json();
  j["landmarks"]["values_per_landmark"] = 5;
  j["landmarks"]["visibility"] = true;
  j["landmarks"]["reported"] = 2;
  j["connections"] = {{0, 1}};
  j["presence"]["activation"] = "none";
  j["handedness"] = {{"output", 2}, {"labels", {"Left", "Right"}}};
  const LandmarkHead head = parse_landmark_head(j);
  std::vector<float> points = {50, 50, 0, 0, 10, 1, 1, 0, 3, -3, 2, 2, 0, 0, 0};
  std::vector<float> flag = {0.7f}, hand = {0.2f};
  const Tensor t0 = float_tensor({1, 15}, points), t1 = float_tensor({1, 1}, flag),
               t2 = float_tensor({1, 1}, hand);
  const ModelOutputs outputs("m", {&t0, &t1, &t2});
  LandmarkResult r = head.decode(outputs, {50, 50, 100, 100, 0});
  EXPECT_FLOAT_EQ(r.presence, 0.7f);
  EXPECT_EQ(r.handedness, "Right");  // the score is the first label's
  EXPECT_NEAR(r.handedness_score, 0.8f, 1e-6);
  ASSERT_EQ(r.visibility.size(), 3u);
  EXPECT_NEAR(r.visibility[0], 0.5f, 1e-6);
  EXPECT_NEAR(r.landmark_presence[0], 1 / (1 + std::exp(-10.0f)), 1e-6);
  EXPECT_NEAR(r.visibility[1], 1 / (1 + std::exp(-3.0f)), 1e-6);
  hand[0] = 0.9f;
  r = head.decode(outputs, {50, 50, 100, 100, 0});
  EXPECT_EQ(r.handedness, "Left");
  EXPECT_NEAR(r.handedness_score, 0.9f, 1e-6);
  // Too few values for the declared landmarks: one line, no read past the end.
  std::vector<float> short_points = {1, 2, 3};
  const Tensor s0 = float_tensor({1, 3}, short_points);
  EXPECT_THROW(head.decode(ModelOutputs("m", {&s0, &t1, &t2}), {50, 50, 100, 100, 0}), Error);
}

TEST(LandmarkHead, RoiRecipes) {
  const LandmarkHead head = parse_landmark_head(landmark_head_json());
  // A palm-style detection: box 20x10 at (100, 100), keypoints wrist below the knuckle.
  Detection d;
  d.box = {90, 95, 110, 105};
  d.keypoints = {{100, 110}, {100, 90}};
  RotatedRect roi = head.roi_from_detection(d);
  EXPECT_NEAR(roi.rotation, 0, 1e-6);  // upright for a 90 degree target
  // Shifted up by half the height (5), squared to 20, doubled.
  EXPECT_NEAR(roi.cx, 100, 1e-4);
  EXPECT_NEAR(roi.cy, 95, 1e-4);
  EXPECT_NEAR(roi.width, 40, 1e-4);
  EXPECT_NEAR(roi.height, 40, 1e-4);
  d.keypoints = {{100, 110}};
  EXPECT_THROW(head.roi_from_detection(d), Error);

  // Alignment from landmarks: centre at point 0, side 2 x |p1 - p0| x 1.5.
  roi = head.roi_from_landmarks({{50, 50, 0}, {80, 50, 0}, {0, 0, 0}});
  EXPECT_NEAR(roi.cx, 50, 1e-4);
  EXPECT_NEAR(roi.width, 90, 1e-4);
  EXPECT_NEAR(roi.rotation, 0, 1e-6);  // target 0: the vector points right
}

TEST(LandmarkHead, HeatmapPullsTowardsTheLocalPeak) {
  // 8x8 heatmap, one channel, a strong peak at column 5, row 2.
  std::vector<float> heatmap(64, -10.0f);
  heatmap[2 * 8 + 5] = 10.0f;
  std::vector<Point3> landmarks = {{0.55f, 0.3f, 0}};
  refine_from_heatmap(landmarks, heatmap, 8, 8, 1, 3, 0.5f);
  EXPECT_NEAR(landmarks[0].x, 5.0f / 8, 1e-3);
  EXPECT_NEAR(landmarks[0].y, 2.0f / 8, 1e-3);
  // No confident cell near the point: left alone; outside the map: left alone.
  landmarks = {{0.05f, 0.9f, 0}, {1.5f, 0.5f, 0}};
  std::vector<float> two(128, -10.0f);
  refine_from_heatmap(landmarks, two, 8, 8, 2, 3, 0.5f);
  EXPECT_FLOAT_EQ(landmarks[0].x, 0.05f);
  EXPECT_FLOAT_EQ(landmarks[1].x, 1.5f);
  EXPECT_THROW(refine_from_heatmap(landmarks, heatmap, 8, 8, 1, 3, 0.5f), Error);  // 2 landmarks, 1 channel
}

TEST(LandmarkHead, RefinementsReplaceAndAddPoints) {
  // Output 2 refines landmark 1 and adds 3 and 4; their z is the mean of 0 and 2.
  json j = landmark_head_json();
  j["refinements"] = {{{"output", 2}, {"indices", {4, 1, 3}}, {"z_average", {0, 2}}}};
  const LandmarkHead head = parse_landmark_head(j);
  EXPECT_EQ(head.params().num_refined, 5);
  EXPECT_EQ(head.params().num_reported, 5);
  std::vector<float> points = {0, 0, 10, 10, 10, 20, 20, 20, 30};
  std::vector<float> flag = {2.0f};
  std::vector<float> refined = {40, 50, 60, 70, 80, 90};
  const Tensor t0 = float_tensor({1, 9}, points), t1 = float_tensor({1, 1}, flag),
               t2 = float_tensor({1, 6}, refined);
  const ModelOutputs outputs("m", {&t0, &t1, &t2});
  // A 100-pixel ROI with its top-left corner at the image's: input pixels are image pixels.
  const LandmarkResult r = head.decode(outputs, RotatedRect{50, 50, 100, 100, 0});
  ASSERT_EQ(r.landmarks.size(), 5u);
  EXPECT_NEAR(r.landmarks[4].x, 40, 1e-4);
  EXPECT_NEAR(r.landmarks[4].y, 50, 1e-4);
  EXPECT_NEAR(r.landmarks[1].x, 60, 1e-4);
  EXPECT_NEAR(r.landmarks[1].y, 70, 1e-4);
  EXPECT_NEAR(r.landmarks[3].x, 80, 1e-4);
  // Landmark 1 keeps its own z (20 / 100 / 0.5 of the ROI width); 3 and 4 take the mean of 0 and 2.
  EXPECT_NEAR(r.landmarks[1].z, 40, 1e-3);
  EXPECT_NEAR(r.landmarks[3].z, 40, 1e-3);
  EXPECT_NEAR(r.landmarks[4].z, 40, 1e-3);
  EXPECT_NEAR(r.landmarks[2].x, 20, 1e-4);

  // A missing refinement output, and too few values in one.
  const ModelOutputs short_outputs("m", {&t0, &t1, &t1});
  EXPECT_THROW(head.decode(short_outputs, RotatedRect{50, 50, 100, 100, 0}), Error);
  EXPECT_THROW(head.check_outputs("m", 2), Error);

  j["refinements"] = {{{"output", 2}, {"indices", {4}}}};
  EXPECT_NE(landmark_parse_error(j).find("no refinement gives landmark 3"), std::string::npos)
      << landmark_parse_error(j);
  j["refinements"] = {{{"output", 2}, {"indices", {1}}, {"z_average", {3}}}};
  EXPECT_NE(landmark_parse_error(j).find("z_average: 3 is not one of the 3 decoded landmarks"),
            std::string::npos)
      << landmark_parse_error(j);
  j["refinements"] = {{{"output", 2}, {"indices", json::array()}}};
  EXPECT_NE(landmark_parse_error(j).find("m.head.refinements[0]"), std::string::npos)
      << landmark_parse_error(j);
}

TEST(LandmarkHead, BadManifestEntriesAreOneLine) {
  json j = landmark_head_json();
  j["landmarks"].erase("count");
  EXPECT_NE(landmark_parse_error(j).find("m.head.landmarks: missing field 'count'"), std::string::npos)
      << landmark_parse_error(j);
  j = landmark_head_json();
  j["roi_from_landmarks"]["method"] = "circle";
  EXPECT_NE(landmark_parse_error(j).find("unknown ROI method 'circle'"), std::string::npos);
  j = landmark_head_json();
  j["roi_from_landmarks"]["rotation_end"] = {7};
  EXPECT_NE(landmark_parse_error(j).find("point index 7 is out of range"), std::string::npos)
      << landmark_parse_error(j);
  j = landmark_head_json();
  j["connections"] = {{0, 9}};
  EXPECT_NE(landmark_parse_error(j).find("m.head.connections"), std::string::npos);
  j = landmark_head_json();
  j["input"]["border"] = "wrap";
  EXPECT_NE(landmark_parse_error(j).find("unknown border mode 'wrap'"), std::string::npos)
      << landmark_parse_error(j);
  j = landmark_head_json();
  j["presence"]["activation"] = "relu";
  EXPECT_NE(landmark_parse_error(j).find("m.head.presence.activation"), std::string::npos);
}

TEST(LandmarkHead, ZooLandmarkModelsParse) {
  for (const char* name :
       {"face_landmark", "face_landmark_with_attention", "hand_landmark_full", "hand_landmark_lite",
        "pose_landmark_lite", "pose_landmark_full", "pose_landmark_heavy"}) {
    const ModelSpec spec = load_model_spec(testing::manifest_path(), name);
    const LandmarkHead& head = spec.head_as<LandmarkHead>();
    EXPECT_EQ(head.params().input_width, spec.input.width) << name;
    EXPECT_FALSE(head.params().connections.empty()) << name;
    EXPECT_NO_THROW(load_model_spec(testing::manifest_path(), head.params().detector)) << name;
  }
  const ModelSpec pose_spec = load_model_spec(testing::manifest_path(), "pose_landmark_full");
  const LandmarkHead& pose = pose_spec.head_as<LandmarkHead>();
  EXPECT_EQ(pose.params().num_reported, 33);
  EXPECT_EQ(pose.params().num_landmarks, 39);
  // The attention model: 468 mesh points, then 10 iris points.
  const ModelSpec face_spec = load_model_spec(testing::manifest_path(), "face_landmark_with_attention");
  EXPECT_EQ(face_spec.head_as<LandmarkHead>().params().num_landmarks, 468);
  EXPECT_EQ(face_spec.head_as<LandmarkHead>().params().num_reported, 478);
}

}  // namespace
}  // namespace osprey::vision
