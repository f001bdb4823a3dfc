// End-to-end checks on real models and photos from the zoo cache
// ($OSPREY_CACHE/models, $OSPREY_CACHE/media); skipped when not fetched.
#include <gtest/gtest.h>

#include "vision/heads/detection_head.h"
#include "vision/heads/segmentation_head.h"
#include "vision/image_io.h"
#include "vision/pipeline.h"
#include "vision/test_images.h"

namespace osprey::vision {
namespace {

struct Fixture {
  std::string model;
  std::string image;
};

// Loads model + photo or skips the test when either is missing.
#define REQUIRE_CACHED(model_name, image_name, out)                                       \
  Fixture out{testing::cached_file("models/" model_name ".tflite"),                       \
              testing::cached_file("media/" image_name)};                                 \
  if (out.model.empty() || out.image.empty()) {                                           \
    GTEST_SKIP() << "needs " model_name ".tflite and " image_name " in the osprey cache"; \
  }

Pipeline load(const std::string& path) {
  return Pipeline(path, load_model_spec(testing::manifest_path(), model_stem(path)));
}

std::vector<Detection> detect(Pipeline& model, const Image& image) {
  return model.run<DetectionHead>(image).output;
}

TEST(RealModels, ShortRangeFindsTheAstronautsFace) {
  REQUIRE_CACHED("face_detection_short_range", "astronaut.png", f);
  Pipeline model = load(f.model);
  const Image image = read_image(f.image);
  const auto result = detect(model, image);
  ASSERT_EQ(result.size(), 1u);
  const Detection& face = result[0];
  EXPECT_GT(face.score, 0.85f);
  // Reference (LiteRT + MediaPipe's graph settings): [178.1, 80.8, 272.1, 174.8].
  EXPECT_GT(iou(face.box, {178, 81, 272, 175}), 0.8f);
  ASSERT_EQ(face.keypoints.size(), 6u);
  // Eyes sit in the upper half of the box, the mouth below the nose.
  EXPECT_LT(face.keypoints[0].y, (face.box.ymin + face.box.ymax) / 2);
  EXPECT_GT(face.keypoints[3].y, face.keypoints[2].y);
}

TEST(RealModels, DetectionsAgreeOnResizedAndPaddedCopies) {
  REQUIRE_CACHED("face_detection_short_range", "astronaut.png", f);
  Pipeline model = load(f.model);
  const Image image = read_image(f.image);
  const Box reference = detect(model, image).at(0).box;

  // Half size: the box scales with the picture.
  const auto half = detect(model, resize_image(image, 256, 256));
  ASSERT_EQ(half.size(), 1u);
  const Box& h = half[0].box;
  EXPECT_GT(iou({h.xmin * 2, h.ymin * 2, h.xmax * 2, h.ymax * 2}, reference), 0.8f);

  // Pasted into a wider canvas: the letterbox mapping must undo the padding.
  Image wide(768, 512, 3);
  for (int y = 0; y < 512; ++y) std::copy_n(image.row(y), image.stride(), wide.at(128, y));
  const auto padded = detect(model, wide);
  ASSERT_EQ(padded.size(), 1u);
  const Box& p = padded[0].box;
  EXPECT_GT(iou({p.xmin - 128, p.ymin, p.xmax - 128, p.ymax}, reference), 0.7f);
}

TEST(RealModels, FullRangeFindsMessisFace) {
  REQUIRE_CACHED("face_detection_full_range", "messi5.jpg", f);
  Pipeline model = load(f.model);
  const auto result = detect(model, read_image(f.image));
  ASSERT_GE(result.size(), 1u);
  // Reference: one face, score 0.78, box [224.9, 97.9, 256.1, 129.1].
  EXPECT_GT(result[0].score, 0.7f);
  EXPECT_GT(iou(result[0].box, {225, 98, 256, 129}), 0.7f);
}

TEST(RealModels, OidDetectorFindsTheCoffeeCup) {
  REQUIRE_CACHED("object_detection_ssd_mobilenetv2_oidv4_fp16", "coffee.png", f);
  Pipeline model = load(f.model);
  const auto result = detect(model, read_image(f.image));
  ASSERT_GE(result.size(), 1u);
  const Detection& best = result[0];
  const std::string label = model.spec().label(best.class_id);
  EXPECT_TRUE(label == "Coffee cup" || label == "Mug") << label;
  // Reference: Coffee cup 0.557 at [173.3, 22.4, 420.3, 324.1].
  EXPECT_GT(iou(best.box, {173, 22, 420, 324}), 0.8f);
}

TEST(RealModels, SelfieSegmentationCoversTheAstronaut) {
  REQUIRE_CACHED("selfie_segmentation", "astronaut.png", f);
  Pipeline model = load(f.model);
  const Image image = read_image(f.image);
  const Image mask = model.run<SegmentationHead>(image).output;
  ASSERT_EQ(mask.width, image.width);
  EXPECT_GT(mask.at(220, 130)[0], 200);  // her face
  EXPECT_GT(mask.at(150, 400)[0], 200);  // the suit
  EXPECT_LT(mask.at(470, 30)[0], 50);    // sky behind the shuttle
}

TEST(RealModels, PipelineTimesEachStageAndTakesAnotherThreshold) {
  REQUIRE_CACHED("face_detection_short_range", "astronaut.png", f);
  Pipeline model = load(f.model);
  const Image image = read_image(f.image);
  const auto run = model.run<DetectionHead>(image);
  EXPECT_GT(run.timing.inference_ms, 0.0);
  EXPECT_GE(run.timing.preprocess_ms, 0.0);
  EXPECT_GE(run.timing.postprocess_ms, 0.0);
  // A lower threshold keeps at least what the manifest's keeps; an
  // impossible one keeps nothing.
  const DetectionHead& head = model.spec().head_as<DetectionHead>();
  EXPECT_GE(model.run(image, head.with_min_score(0.1f)).output.size(), run.output.size());
  EXPECT_TRUE(model.run(image, head.with_min_score(1.0f)).output.empty());
  // The detector has no segmentation head: a one-line error, no crash.
  EXPECT_THROW(model.run<SegmentationHead>(image), Error);
}

}  // namespace
}  // namespace osprey::vision
