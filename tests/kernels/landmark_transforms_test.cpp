// MediaPipe's landmark custom ops (Landmarks2TransformMatrix,
// TransformTensorBilinear, TransformLandmarks, version 2) on cases worked out
// by hand: a level pair of landmarks and a tilted one, a crop that is the
// identity, a shift by half a pixel, points outside the input; plus option
// parsing and the one-line errors for hostile options and shapes. The whole
// face_landmark_with_attention model is checked against MediaPipe itself
// (tests/vision/landmarks_mediapipe_compare.mjs, face-mesh-refined).
#include <flatbuffers/flexbuffers.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <numbers>
#include <vector>

#include "kernels/op_tester.h"

namespace osprey {
namespace {

using testing::OpTester;

struct MatrixOptions {
  int left = 0, right = 1;
  float target = 0;
  int width = 4, height = 4;
  float scale_x = 1, scale_y = 1;
  std::vector<int> subset = {0, 1, 2, 3};
};

// The options as MediaPipe's converter writes them (an independent writer:
// osprey keeps the bytes it loaded). `extra` adds keys for the error cases.
std::vector<uint8_t> matrix_options(const MatrixOptions& o,
                                    const std::function<void(flexbuffers::Builder&)>& extra = {}) {
  flexbuffers::Builder b;
  b.Map([&] {
    b.Int("left_rotation_idx", o.left);
    b.Int("right_rotation_idx", o.right);
    b.Float("target_rotation_radians", o.target);
    b.Int("output_height", o.height);
    b.Int("output_width", o.width);
    b.Float("scale_x", o.scale_x);
    b.Float("scale_y", o.scale_y);
    b.TypedVector("subset_idxs", [&] {
      for (int i : o.subset) b.Int(i);
    });
    if (extra) extra(b);
  });
  b.Finish();
  return b.GetBuffer();
}

std::vector<uint8_t> crop_options(int width, int height) {
  flexbuffers::Builder b;
  b.Map([&] {
    b.Int("output_height", height);
    b.Int("output_width", width);
  });
  b.Finish();
  return b.GetBuffer();
}

// Landmarks2TransformMatrix on `points` (x, y, z each).
std::vector<float> matrix_of(const std::vector<float>& points, const MatrixOptions& o) {
  OpTester t({"ref"});
  t.add_input<float>({1, static_cast<int>(points.size() / 3), 3}, points);
  t.add_output(DType::kFloat32);
  t.set_custom_op("Landmarks2TransformMatrix", matrix_options(o));
  t.set_version(2);
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{1, 4, 4}));
  return t.output_values<float>();
}

void expect_matrix(const std::vector<float>& got, const std::vector<float>& expected,
                   float tolerance = 1e-5f) {
  ASSERT_EQ(got.size(), 16u);
  for (size_t i = 0; i < 16; ++i) EXPECT_NEAR(got[i], expected[i], tolerance) << "element " << i;
}

TEST(LandmarkTransforms, MatrixOfALevelBox) {
  // A 40 x 20 box centred at (30, 50); the first two points level (left to right).
  const std::vector<float> points = {10, 40, 0, 50, 40, 0, 50, 60, 0, 10, 60, 0};
  MatrixOptions o;
  o.width = 8;
  o.height = 4;
  o.scale_x = 1.5f;
  o.scale_y = 2.0f;
  // scale 1.5 * 40 / 8 = 7.5 and 2 * 20 / 4 = 10; crop pixel (x, y) -> centre + scale * (x - 4, y - 2).
  expect_matrix(matrix_of(points, o),
                {7.5f, 0, 0, 30 - 4 * 7.5f, 0, 10, 0, 50 - 2 * 10.0f, 0, 0, 1, 0, 0, 0, 0, 1});
}

TEST(LandmarkTransforms, MatrixOfATiltedPairLevelsIt) {
  // Points on a square of side 2 rotated by 90 degrees: the rotation pair
  // runs straight down, so the crop turns by a quarter.
  const std::vector<float> points = {5, 5, 0, 5, 7, 0, 3, 7, 0, 3, 5, 0};
  MatrixOptions o;
  o.width = 2;
  o.height = 2;
  const std::vector<float> m = matrix_of(points, o);
  // r = -pi/2: the matrix rotates crop axes by +pi/2 (x -> down), scale 1, centre (4, 6).
  expect_matrix(m, {0, -1, 0, 4 + 1, 1, 0, 0, 6 - 1, 0, 0, 1, 0, 0, 0, 0, 1});
  // The crop's (0, 0) corner and its centre land where the rotation says.
  EXPECT_NEAR(m[0] * 1 + m[1] * 1 + m[3], 4, 1e-5);
  EXPECT_NEAR(m[4] * 1 + m[5] * 1 + m[7], 6, 1e-5);
}

TEST(LandmarkTransforms, TargetRotationIsAdded) {
  const std::vector<float> points = {0, 0, 0, 2, 0, 0, 2, 2, 0, 0, 2, 0};
  MatrixOptions o;
  o.width = o.height = 2;
  o.target = std::numbers::pi_v<float> / 2;
  const std::vector<float> m = matrix_of(points, o);
  // rotate(-pi/2) = [[0, 1], [-1, 0]]; the box in the rotated frame is again 2 x 2, centre (1, 1).
  expect_matrix(m, {0, 1, 0, 1 - 1, -1, 0, 0, 1 + 1, 0, 0, 1, 0, 0, 0, 0, 1});
}

// TransformTensorBilinear of `input` ([1, h, w, c]) through `matrix`.
std::vector<float> crop(const Shape& shape, const std::vector<float>& input, const std::vector<float>& matrix,
                        int width, int height) {
  OpTester t({"ref"});
  t.add_input<float>(shape, input);
  t.add_input<float>({1, 4, 4}, matrix);
  t.add_output(DType::kFloat32);
  t.set_custom_op("TransformTensorBilinear", crop_options(width, height));
  t.set_version(2);
  t.run();
  EXPECT_EQ(t.output_shape(), (Shape{1, height, width, shape[3]}));
  return t.output_values<float>();
}

TEST(LandmarkTransforms, BilinearCropThroughTheIdentityCopies) {
  std::vector<float> input(3 * 4 * 2);
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(i) * 0.5f - 3;
  const std::vector<float> identity = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  EXPECT_EQ(crop({1, 3, 4, 2}, input, identity, 4, 3), input);
}

TEST(LandmarkTransforms, BilinearCropSamplesBetweenPixelsAndZeroesOutside) {
  // One channel, 2 x 3: values 0..5. The matrix shifts by (+0.5, 0): each
  // output pixel x samples halfway between input x and x + 1; the last
  // column lands past the input (x = 2.5 > 2) and gives 0.
  const std::vector<float> input = {0, 1, 2, 3, 4, 5};
  const std::vector<float> shift = {1, 0, 0, 0.5f, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  EXPECT_EQ(crop({1, 2, 3, 1}, input, shift, 3, 2), (std::vector<float>{0.5f, 1.5f, 0, 3.5f, 4.5f, 0}));
  // Halving about pixel centres: output pixel x samples input 0.5 x - 0.25,
  // so (0, 0) falls outside and (1, 1) samples (0.25, 0.25): rows 0.75 * 0 +
  // 0.25 * 1 and 0.75 * 3 + 0.25 * 4, mixed 3:1.
  const std::vector<float> half = {0.5f, 0, 0, 0, 0, 0.5f, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  const std::vector<float> out = crop({1, 2, 3, 1}, input, half, 2, 2);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_FLOAT_EQ(out[3], 0.75f * 0.25f + 0.25f * 3.25f);
}

TEST(LandmarkTransforms, LandmarksGoThroughTheMatrixAndKeepZ) {
  const std::vector<float> matrix = {2, 0, 0, 10, 0, 3, 0, -1, 0, 0, 1, 0, 0, 0, 0, 1};
  for (const int dims : {2, 3}) {
    OpTester t({"ref"});
    const std::vector<float> points =
        dims == 2 ? std::vector<float>{1, 2, -1, 0.5f} : std::vector<float>{1, 2, 7, -1, 0.5f, -8};
    t.add_input<float>({1, 2, dims}, points);
    t.add_input<float>({1, 4, 4}, matrix);
    t.add_output(DType::kFloat32);
    t.set_custom_op("TransformLandmarks", {});
    t.set_version(2);
    t.run();
    EXPECT_EQ(t.output_shape(), (Shape{1, 2, dims}));
    const std::vector<float> expected =
        dims == 2 ? std::vector<float>{12, 5, 8, 0.5f} : std::vector<float>{12, 5, 7, 8, 0.5f, -8};
    EXPECT_EQ(t.output_values<float>(), expected);
  }
}

TEST(LandmarkTransforms, HostileOptionsAndShapesAreOneLineErrors) {
  const std::vector<float> points = {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0};
  auto matrix_error = [&](const MatrixOptions& o, const std::string& needle, int version = 2,
                          const std::function<void(flexbuffers::Builder&)>& extra = {}) {
    OpTester t({"ref"});
    t.add_input<float>({1, 4, 3}, points);
    t.add_output(DType::kFloat32);
    t.set_custom_op("Landmarks2TransformMatrix", matrix_options(o, extra));
    t.set_version(version);
    testing::expect_error(t, needle);
  };
  MatrixOptions past;
  past.subset = {0, 4};
  matrix_error(past, "subset index 4 is past the 4 landmarks");
  MatrixOptions right;
  right.right = 9;
  matrix_error(right, "right_rotation_idx 9 is past the 4 landmarks");
  MatrixOptions negative;
  negative.subset = {-1};
  matrix_error(negative, "custom option 'subset_idxs' is -1");
  MatrixOptions empty;
  empty.subset = {};
  matrix_error(empty, "'subset_idxs' is empty");
  MatrixOptions flat;
  flat.scale_x = 0;
  matrix_error(flat, "must be positive");
  MatrixOptions no_crop;
  no_crop.width = 0;
  matrix_error(no_crop, "custom option 'output_width' is 0");
  matrix_error({}, "version 1 is not supported", 1);
  matrix_error({}, "Landmarks2TransformMatrix version 1 options", 2, [](flexbuffers::Builder& b) {
    b.TypedVector("input_hw", [&] {
      b.Int(192);
      b.Int(192);
    });
  });

  {
    OpTester t({"ref"});
    t.add_input<float>({1, 4, 2}, std::vector<float>(8));  // (x, y) only: the op reads x, y, z
    t.add_output(DType::kFloat32);
    t.set_custom_op("Landmarks2TransformMatrix", matrix_options({}));
    t.set_version(2);
    testing::expect_error(t, "landmarks must be float32 [1, N, 3]");
  }
  {
    OpTester t({"ref"});
    t.add_input<float>({1, 2, 2, 1}, std::vector<float>(4));
    t.add_input<float>({1, 3, 3}, std::vector<float>(9));
    t.add_output(DType::kFloat32);
    t.set_custom_op("TransformTensorBilinear", crop_options(2, 2));
    t.set_version(2);
    testing::expect_error(t, "must be a 4x4 float32 matrix");
  }
  {
    OpTester t({"ref"});
    t.add_input<float>({1, 3, 4}, std::vector<float>(12));
    t.add_input<float>({1, 4, 4}, std::vector<float>(16));
    t.add_output(DType::kFloat32);
    t.set_custom_op("TransformLandmarks", {});
    t.set_version(2);
    testing::expect_error(t, "landmarks must be float32 [1, N, 2] or [1, N, 3]");
  }
}

TEST(LandmarkTransforms, ANanMatrixGivesZerosNotACrash) {
  const std::vector<float> nan(16, std::nanf(""));
  EXPECT_EQ(crop({1, 2, 2, 1}, {1, 2, 3, 4}, nan, 2, 2), (std::vector<float>{0, 0, 0, 0}));
}

}  // namespace
}  // namespace osprey
