// The "box-landmarks" head (objectron's 3D-box models) on synthetic output
// tensors: keypoints through the ROI to image pixels, the presence threshold,
// the ROI from a detection box and from the previous frame's keypoints, the
// zoo entries, the JSON, and one-line manifest errors.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>

#include "core/error.h"
#include "vision/heads/box_landmark_head.h"
#include "vision/landmarks/objectron_output.h"
#include "vision/model_metadata.h"
#include "vision/test_images.h"

namespace osprey::vision {
namespace {

using nlohmann::json;

using testing::float_tensor;

// A 9-keypoint model with a 100x100 input.
json box_head_json() {
  return {{"type", "box-landmarks"},
          {"input", {{"width", 100}, {"height", 100}, {"range", {0.0, 1.0}}}},
          {"keypoints", {{"output", 0}, {"count", 9}, {"values_per_keypoint", 2}}},
          {"presence", {{"output", 1}, {"threshold", 0.99}}},
          {"detection", {{"detector", "d"}, {"labels", {"Coffee cup", "Mug"}}}},
          {"roi", {{"scale_x", 1.5}, {"scale_y", 1.5}, {"square_long", true}}},
          {"rotation", {{"bottom_face", {1, 2, 5, 6}}, {"top_face", {3, 4, 7, 8}}}},
          {"edges",
           {{1, 5}, {2, 6}, {3, 7}, {4, 8}, {1, 3}, {2, 4}, {5, 7}, {6, 8}, {1, 2}, {3, 4}, {5, 6}, {7, 8}}}};
}

BoxLandmarkHead parse_box_head(const json& head) {
  auto parsed = BoxLandmarkHead::parse(ManifestFields(head, "m.head"));
  return *std::dynamic_pointer_cast<const BoxLandmarkHead>(parsed);
}

std::string box_parse_error(const json& head) {
  try {
    (void)BoxLandmarkHead::parse(ManifestFields(head, "m.head"));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// An upright box seen from the side, centred on (cx, cy): corners as the
// objectron topology numbers them (1-4 left, 5-8 right; 3, 4, 7, 8 on top;
// even = front, drawn a little lower and wider), turned `angle` radians
// clockwise on screen about the centre.
std::vector<Point3> upright_box(float cx, float cy, float angle) {
  const float corners[9][2] = {{0, 0},   {-40, 40}, {-50, 50}, {-40, -40}, {-50, -30},
                               {40, 40}, {50, 50},  {40, -40}, {50, -30}};
  std::vector<Point3> points;
  for (const auto& c : corners) {
    const float x = std::cos(angle) * c[0] - std::sin(angle) * c[1];
    const float y = std::sin(angle) * c[0] + std::cos(angle) * c[1];
    points.push_back({cx + x, cy + y, 0});
  }
  return points;
}

TEST(BoxLandmarkHead, ProjectsKeypointsThroughTheRoi) {
  const BoxLandmarkHead head = parse_box_head(box_head_json());
  // Keypoint 0 at the input's centre, 1 at its top-left corner, 2 at the right edge's middle.
  std::vector<float> points(18, 50.0f);
  points[2] = 0, points[3] = 0, points[4] = 100, points[5] = 50;
  std::vector<float> presence = {0.995f};
  const Tensor t0 = float_tensor({1, 18}, points), t1 = float_tensor({1, 1}, presence);
  const ModelOutputs outputs("m", {&t0, &t1});
  // A 40-pixel ROI centred on (200, 100), turned a quarter clockwise.
  const LandmarkResult r = head.decode(outputs, RotatedRect{200, 100, 40, 40, std::numbers::pi_v<float> / 2});
  EXPECT_FLOAT_EQ(r.presence, 0.995f);
  EXPECT_TRUE(r.present);
  ASSERT_EQ(r.landmarks.size(), 9u);
  EXPECT_NEAR(r.landmarks[0].x, 200, 1e-4);
  EXPECT_NEAR(r.landmarks[0].y, 100, 1e-4);
  // The ROI's top-left corner lands top-right on screen, its right edge at the bottom.
  EXPECT_NEAR(r.landmarks[1].x, 220, 1e-4);
  EXPECT_NEAR(r.landmarks[1].y, 80, 1e-4);
  EXPECT_NEAR(r.landmarks[2].x, 200, 1e-4);
  EXPECT_NEAR(r.landmarks[2].y, 120, 1e-4);
  for (const Point3& p : r.landmarks) EXPECT_EQ(p.z, 0.0f);

  // 0.98 is below MediaPipe's 0.99: not present.
  presence[0] = 0.98f;
  EXPECT_FALSE(head.decode(outputs, RotatedRect{200, 100, 40, 40, 0}).present);
}

TEST(BoxLandmarkHead, TooFewValuesIsOneLine) {
  const BoxLandmarkHead head = parse_box_head(box_head_json());
  std::vector<float> points(16, 0.0f), presence = {1.0f};
  const Tensor t0 = float_tensor({1, 16}, points), t1 = float_tensor({1, 1}, presence);
  try {
    (void)head.decode(ModelOutputs("m", {&t0, &t1}), RotatedRect{0, 0, 10, 10, 0});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "keypoint output 0 has 16 values, expected 9 x 2");
  }
}

TEST(BoxLandmarkHead, RoiFromADetectionIsTheSquaredBoxTimesOneAndAHalf) {
  const BoxLandmarkHead head = parse_box_head(box_head_json());
  const RotatedRect rect = head.rect_from_box({150, 70, 250, 130});
  EXPECT_FLOAT_EQ(rect.rotation, 0);
  const RotatedRect roi = head.roi_for(rect);
  EXPECT_FLOAT_EQ(roi.cx, 200);
  EXPECT_FLOAT_EQ(roi.cy, 100);
  EXPECT_FLOAT_EQ(roi.width, 150);  // longer side 100, x 1.5
  EXPECT_FLOAT_EQ(roi.height, 150);
  EXPECT_FLOAT_EQ(roi.rotation, 0);
}

TEST(BoxLandmarkHead, RoiFromKeypointsKeepsTheBoxUpright) {
  const BoxLandmarkHead head = parse_box_head(box_head_json());
  // Upright: the bounds of the 9 points, no rotation.
  const RotatedRect upright = head.rect_from_keypoints(upright_box(300, 200, 0));
  EXPECT_NEAR(upright.rotation, 0, 1e-5);
  EXPECT_FLOAT_EQ(upright.cx, 300);
  EXPECT_FLOAT_EQ(upright.cy, 205);  // bounds y -40 .. 50 about the centre
  EXPECT_FLOAT_EQ(upright.width, 100);
  EXPECT_FLOAT_EQ(upright.height, 90);
  // Leaning 30 degrees clockwise: the ROI turns with it, so the box is upright inside.
  for (float degrees : {30.0f, -45.0f, 120.0f}) {
    const float angle = degrees * std::numbers::pi_v<float> / 180;
    const RotatedRect leaning = head.rect_from_keypoints(upright_box(300, 200, angle));
    EXPECT_NEAR(leaning.rotation, angle, 1e-4) << degrees;
  }
}

TEST(BoxLandmarkHead, ManifestErrorsAreOneLine) {
  json bad = box_head_json();
  bad["rotation"]["top_face"] = {3, 4, 7, 9};
  EXPECT_EQ(box_parse_error(bad), "m.head.rotation.top_face: keypoint 9 is out of range (there are 9)");
  bad = box_head_json();
  bad["keypoints"]["values_per_keypoint"] = 1;
  EXPECT_EQ(box_parse_error(bad), "m.head.keypoints.values_per_keypoint: 1 is too few (x, y at least)");
  bad = box_head_json();
  bad["detection"]["labels"] = json::array();
  EXPECT_EQ(box_parse_error(bad), "m.head.detection.labels: expected at least one detector class");
  bad = box_head_json();
  bad["edges"] = {{1, 9}};
  EXPECT_EQ(box_parse_error(bad), "m.head.edges: each must be two keypoint indices below 9");
  bad = box_head_json();
  bad.erase("detection");
  EXPECT_NE(box_parse_error(bad).find("detection"), std::string::npos) << box_parse_error(bad);
}

TEST(BoxLandmarkHead, ZooEntriesNameTheirDetectorClasses) {
  const std::string manifest = testing::manifest_path();
  const ModelSpec detector = load_model_spec(manifest, "object_detection_ssd_mobilenetv2_oidv4_fp16");
  const std::pair<const char*, std::vector<std::string>> objects[] = {{"camera", {"Camera"}},
                                                                      {"chair", {"Chair"}},
                                                                      {"cup", {"Coffee cup", "Mug"}},
                                                                      {"sneakers", {"Footwear"}}};
  for (const auto& [object, labels] : objects) {
    const ModelSpec spec = load_model_spec(manifest, std::string("object_detection_3d_") + object);
    const auto& head = spec.head_as<BoxLandmarkHead>();
    EXPECT_EQ(head.params().detector, detector.name) << object;
    EXPECT_EQ(head.params().detector_labels, labels) << object;
    for (const std::string& label : labels) {
      EXPECT_NE(std::find(detector.labels.begin(), detector.labels.end(), label), detector.labels.end())
          << label;
    }
    EXPECT_EQ(head.params().num_keypoints, 9);
    EXPECT_EQ(head.params().edges.size(), 12u);
    EXPECT_EQ(spec.input.width, 224);
    EXPECT_EQ(spec.input.height, 224);
  }
}

TEST(ObjectronOutput, AddsTheObjectAndEachSubjectsLabel) {
  ObjectronFrame frame;
  LandmarkSubject s;
  s.result.presence = 0.996f;
  s.result.present = true;
  s.result.landmarks = upright_box(300, 200, 0);
  s.box = {250, 150, 350, 250};
  s.roi = {300, 200, 150, 150, 0};
  frame.frame.subjects.push_back(s);
  frame.labels.push_back("Mug");
  const auto j = objectron_to_json("cup", 600, 400, frame);
  std::vector<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"pipeline", "object", "image", "subjects", "timing_ms"}));
  EXPECT_EQ(j["pipeline"], "objectron");
  EXPECT_EQ(j["object"], "cup");
  const auto& subject = j["subjects"][0];
  keys.clear();
  for (const auto& [key, value] : subject.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"score", "label", "box", "landmarks", "roi"}));
  EXPECT_EQ(subject["label"], "Mug");
  ASSERT_EQ(subject["landmarks"].size(), 9u);
  EXPECT_EQ(subject["landmarks"][1], nlohmann::ordered_json({260.0, 240.0, 0.0}));
}

}  // namespace
}  // namespace osprey::vision
