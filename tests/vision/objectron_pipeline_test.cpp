// The objectron pipeline on the zoo's models and coffee.png (skipped when not
// fetched): the cup's 3D box where the cup is, no chair where there is none,
// tracking from one call to the next without the detector, and one-line
// errors for an object the zoo lacks.
#include <gtest/gtest.h>

#include <cmath>

#include "backends/backend.h"
#include "core/error.h"
#include "vision/image_io.h"
#include "vision/landmarks/objectron_pipeline.h"
#include "vision/test_images.h"

namespace osprey::vision {
namespace {

#define REQUIRE(...)                                                         \
  if (!testing::all_cached({__VA_ARGS__})) {                                 \
    GTEST_SKIP() << "needs the zoo's models and photos in the osprey cache"; \
  }

#define REQUIRE_CUP()                                                  \
  REQUIRE("models/object_detection_ssd_mobilenetv2_oidv4_fp16.tflite", \
          "models/object_detection_3d_cup.tflite", "media/coffee.png")

// On the tools' default backends, as `osprey landmarks --pipeline objectron`
// runs it: the pipeline's logic is under test here, and on the reference
// kernels the tracking test alone took 73 s under ASan.
ObjectronPipeline make_objectron(const ObjectronOptions& options) {
  const BackendStack backends = make_backends(kDefaultBackend, 1);
  return ObjectronPipeline(options, backends.options());
}

ObjectronPipeline make_objectron(const char* object, bool track = false) {
  ObjectronOptions options;
  options.object = object;
  options.track = track;
  return make_objectron(options);
}

Point mean_of(const std::vector<Point3>& points, std::initializer_list<int> indices) {
  Point sum;
  for (int i : indices) {
    sum.x += points[static_cast<size_t>(i)].x / static_cast<float>(indices.size());
    sum.y += points[static_cast<size_t>(i)].y / static_cast<float>(indices.size());
  }
  return sum;
}

TEST(ObjectronPipeline, FindsTheCupsBox) {
  REQUIRE_CUP();
  ObjectronPipeline pipeline = make_objectron("cup");
  const ObjectronFrame out = pipeline.process(read_image(testing::cached_file("media/coffee.png")));
  ASSERT_EQ(out.frame.subjects.size(), 1u);
  EXPECT_TRUE(out.labels[0] == "Coffee cup" || out.labels[0] == "Mug") << out.labels[0];
  const LandmarkSubject& cup = out.frame.subjects[0];
  EXPECT_GE(cup.result.presence, 0.99f);
  ASSERT_EQ(cup.result.landmarks.size(), 9u);
  // Looked at by hand: coffee.png (600x400) shows the cup's body over
  // x 175-410, y 15-310, its centre near (290, 175).
  const Point3& centre = cup.result.landmarks[0];
  EXPECT_NEAR(centre.x, 290, 30);
  EXPECT_NEAR(centre.y, 175, 30);
  EXPECT_GT(cup.box.xmin, 120);
  EXPECT_LT(cup.box.xmax, 470);
  EXPECT_GT(cup.box.ymin, -10);
  EXPECT_LT(cup.box.ymax, 360);
  // The top face is above the bottom face, and the centre between them.
  const Point top = mean_of(cup.result.landmarks, {3, 4, 7, 8});
  const Point bottom = mean_of(cup.result.landmarks, {1, 2, 5, 6});
  EXPECT_LT(top.y + 100, bottom.y);
  EXPECT_NEAR((top.x + bottom.x) / 2, centre.x, 20);
  EXPECT_NEAR((top.y + bottom.y) / 2, centre.y, 20);
  // The ROI: the detection squared, x 1.5, unrotated.
  EXPECT_FLOAT_EQ(cup.roi.width, cup.roi.height);
  EXPECT_EQ(cup.roi.rotation, 0.0f);
  EXPECT_FALSE(cup.tracked);
}

TEST(ObjectronPipeline, NoChairInTheCoffeePhoto) {
  REQUIRE("models/object_detection_ssd_mobilenetv2_oidv4_fp16.tflite",
          "models/object_detection_3d_chair.tflite", "media/coffee.png");
  ObjectronPipeline pipeline = make_objectron("chair");
  const ObjectronFrame out = pipeline.process(read_image(testing::cached_file("media/coffee.png")));
  EXPECT_TRUE(out.frame.detector_ran);
  EXPECT_TRUE(out.frame.subjects.empty());
  EXPECT_TRUE(pipeline.detect(read_image(testing::cached_file("media/coffee.png"))).empty());
}

TEST(ObjectronPipeline, TrackingSkipsTheDetectorAndStaysPut) {
  REQUIRE_CUP();
  ObjectronPipeline pipeline = make_objectron("cup", true);
  const Image image = read_image(testing::cached_file("media/coffee.png"));
  const ObjectronFrame first = pipeline.process(image);
  ASSERT_EQ(first.frame.subjects.size(), 1u);
  // One cup tracked, but up to 5 objects wanted: the detector runs again,
  // and its detection of the same cup is not a second object.
  const ObjectronFrame second = pipeline.process(image);
  ASSERT_EQ(second.frame.subjects.size(), 1u);
  EXPECT_TRUE(second.frame.subjects[0].tracked);
  EXPECT_EQ(second.labels[0], first.labels[0]);
  // From the keypoint-derived ROI (turned about 7 degrees, 3% larger) the box
  // centre stays within 2% of the ROI size. A cup is round, so its box's yaw
  // is free and the corners swing with the ROI: measured up to 8%, checked at 10%.
  const float roi = first.frame.subjects[0].roi.width;
  for (size_t i = 0; i < 9; ++i) {
    const Point3& a = first.frame.subjects[0].result.landmarks[i];
    const Point3& b = second.frame.subjects[0].result.landmarks[i];
    EXPECT_LT(std::hypot(a.x - b.x, a.y - b.y), (i == 0 ? 0.02f : 0.10f) * roi) << "keypoint " << i;
  }
  // With one object wanted and one tracked, the detector stays off.
  ObjectronOptions options;
  options.object = "cup";
  options.max_objects = 1;
  ObjectronPipeline single = make_objectron(options);
  EXPECT_TRUE(single.process(image).frame.detector_ran);
  const ObjectronFrame tracked = single.process(image);
  EXPECT_FALSE(tracked.frame.detector_ran);
  ASSERT_EQ(tracked.frame.subjects.size(), 1u);
  EXPECT_TRUE(tracked.frame.subjects[0].tracked);
  // Nothing there any more: the object is dropped and the detector runs again.
  const ObjectronFrame gone = single.process(Image(600, 400, 3));
  EXPECT_TRUE(gone.frame.subjects.empty());
  EXPECT_TRUE(single.process(image).frame.detector_ran);
}

TEST(ObjectronPipeline, UnknownObjectIsOneLine) {
  ObjectronOptions options;
  options.object = "teapot";
  try {
    ObjectronPipeline pipeline(options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "the zoo has no 3D-box model for object 'teapot' (known: camera, chair, cup, sneakers)");
  }
  if (!testing::all_cached({"models/face_landmark.tflite"})) GTEST_SKIP() << "needs face_landmark";
  options.model = "face_landmark";
  try {
    ObjectronPipeline pipeline(options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a 3D-box (objectron) model"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace osprey::vision
