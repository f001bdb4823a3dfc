// The landmark pipelines on the zoo's models and photos (skipped when not
// fetched): subjects found where they are, none where there is none, and
// tracking from one call to the next without the detector.
#include <gtest/gtest.h>

#include "backends/backend.h"
#include "core/error.h"
#include "vision/image_io.h"
#include "vision/landmarks/landmark_pipeline.h"
#include "vision/test_images.h"

namespace osprey::vision {
namespace {

#define REQUIRE(...)                                                         \
  if (!testing::all_cached({__VA_ARGS__})) {                                 \
    GTEST_SKIP() << "needs the zoo's models and photos in the osprey cache"; \
  }

// On the tools' default backends, as `osprey landmarks` runs it: the
// pipeline's logic is under test here, and on the reference kernels these
// tests took minutes under ASan.
LandmarkPipeline make_pipeline(const char* name, bool track = false) {
  LandmarkPipelineOptions options;
  options.pipeline = name;
  options.track = track;
  const BackendStack backends = make_backends(kDefaultBackend, 1);
  return LandmarkPipeline(options, backends.options());
}

float distance(const Point3& a, const Point3& b) {
  return std::hypot(a.x - b.x, a.y - b.y);
}

TEST(LandmarkPipelines, FaceMeshOnTheAstronaut) {
  REQUIRE("models/face_detection_short_range.tflite", "models/face_landmark.tflite", "media/astronaut.png");
  LandmarkPipeline pipeline = make_pipeline("face-mesh");
  const LandmarkFrame frame = pipeline.process(read_image(testing::cached_file("media/astronaut.png")));
  ASSERT_EQ(frame.subjects.size(), 1u);
  const LandmarkSubject& face = frame.subjects[0];
  EXPECT_GT(face.result.presence, 0.9f);
  ASSERT_EQ(face.result.landmarks.size(), 468u);
  // The detector's face box is [178, 81, 272, 175]; the mesh spans about the same.
  EXPECT_GT(iou(face.box, {178, 81, 272, 175}), 0.6f);
  // Eye corners (33, 263) level with each other and above the mouth (13), nose tip (1) between.
  const auto& l = face.result.landmarks;
  EXPECT_LT(std::abs(l[33].y - l[263].y), 10);
  EXPECT_LT(l[33].x, l[1].x);
  EXPECT_LT(l[1].x, l[263].x);
  EXPECT_LT(l[33].y, l[1].y);
  EXPECT_LT(l[1].y, l[13].y);
  EXPECT_NEAR(face.roi.rotation, 0, 0.2);
}

TEST(LandmarkPipelines, NoSubjectInTheCoffeeCup) {
  REQUIRE("models/face_detection_short_range.tflite", "models/face_landmark.tflite", "media/coffee.png",
          "models/pose_detection.tflite", "models/pose_landmark_full.tflite");
  const Image coffee = read_image(testing::cached_file("media/coffee.png"));
  EXPECT_TRUE(make_pipeline("face-mesh").process(coffee).subjects.empty());
  EXPECT_TRUE(make_pipeline("pose").process(coffee).subjects.empty());
}

TEST(LandmarkPipelines, PoseOnMessiWithVisibilityAndMask) {
  REQUIRE("models/pose_detection.tflite", "models/pose_landmark_full.tflite", "media/messi5.jpg");
  LandmarkPipeline pipeline = make_pipeline("pose");
  const LandmarkFrame frame = pipeline.process(read_image(testing::cached_file("media/messi5.jpg")));
  ASSERT_EQ(frame.subjects.size(), 1u);
  const LandmarkResult& r = frame.subjects[0].result;
  ASSERT_EQ(r.landmarks.size(), 39u);  // 33 + the auxiliary ROI points
  ASSERT_EQ(r.visibility.size(), 39u);
  EXPECT_EQ(r.mask_width, 256);
  // The nose (0) above the hips (23, 24), the hips above the ankles (27, 28).
  EXPECT_LT(r.landmarks[0].y, r.landmarks[23].y);
  EXPECT_LT(r.landmarks[24].y, r.landmarks[28].y);
  EXPECT_GT(r.visibility[0], 0.5f);
}

TEST(LandmarkPipelines, TrackingSkipsTheDetectorAndStaysPut) {
  REQUIRE("models/face_detection_short_range.tflite", "models/face_landmark.tflite", "media/astronaut.png");
  LandmarkPipeline pipeline = make_pipeline("face-mesh", true);
  const Image image = read_image(testing::cached_file("media/astronaut.png"));
  const LandmarkFrame first = pipeline.process(image);
  const LandmarkFrame second = pipeline.process(image);
  EXPECT_TRUE(first.detector_ran);
  EXPECT_FALSE(second.detector_ran);
  ASSERT_EQ(second.subjects.size(), 1u);
  EXPECT_TRUE(second.subjects[0].tracked);
  // From the landmark-derived ROI the mesh lands within 2% of the ROI size of the first.
  const float tolerance = 0.02f * first.subjects.at(0).roi.width;
  for (int i : {1, 33, 263, 13, 152}) {
    EXPECT_LT(distance(first.subjects[0].result.landmarks[static_cast<size_t>(i)],
                       second.subjects[0].result.landmarks[static_cast<size_t>(i)]),
              tolerance)
        << "landmark " << i;
  }
  // Nothing there any more: the subject is dropped and the detector runs again.
  const LandmarkFrame empty = pipeline.process(read_image(testing::cached_file("media/coffee.png")));
  EXPECT_TRUE(empty.subjects.empty());
  const LandmarkFrame again = pipeline.process(image);
  EXPECT_TRUE(again.detector_ran);
  EXPECT_EQ(again.subjects.size(), 1u);
}

TEST(LandmarkPipelines, HandsFindMessisHand) {
  REQUIRE("models/palm_detection_full.tflite", "models/hand_landmark_full.tflite", "media/messi5.jpg");
  const LandmarkFrame frame =
      make_pipeline("hands").process(read_image(testing::cached_file("media/messi5.jpg")));
  ASSERT_GE(frame.subjects.size(), 1u);
  const LandmarkResult& hand = frame.subjects[0].result;
  EXPECT_EQ(hand.landmarks.size(), 21u);
  EXPECT_TRUE(hand.handedness == "Left" || hand.handedness == "Right");
  EXPECT_GE(hand.handedness_score, 0.5f);
}

TEST(LandmarkPipelines, BadChoicesAreOneLine) {
  LandmarkPipelineOptions options;
  options.pipeline = "objectron";
  try {
    LandmarkPipeline pipeline(options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown pipeline 'objectron' (known: face-mesh, hands, pose)"),
              std::string::npos)
        << e.what();
  }
  if (!testing::all_cached({"models/face_detection_short_range.tflite"}))
    GTEST_SKIP() << "needs the face detector";
  options.pipeline = "face-mesh";
  options.landmark_model = "face_detection_short_range";
  EXPECT_THROW(LandmarkPipeline{options}, Error);
}

}  // namespace
}  // namespace osprey::vision
