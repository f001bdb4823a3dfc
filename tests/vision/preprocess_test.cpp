// Letterbox/stretch geometry, libyuv resampling and input normalisation.
#include <gtest/gtest.h>

#include "core/error.h"
#include "vision/preprocess.h"
#include "vision/test_images.h"

namespace osprey::vision {
namespace {

Image solid(int width, int height, uint8_t r, uint8_t g, uint8_t b) {
  Image image(width, height, 3);
  for (size_t i = 0; i < image.pixels.size(); i += 3) {
    image.pixels[i] = r;
    image.pixels[i + 1] = g;
    image.pixels[i + 2] = b;
  }
  return image;
}

TEST(Preprocess, LetterboxCentresAWideImage) {
  const InputTransform t = make_input_transform(512, 256, 128, 128, ResizeMode::kLetterbox);
  EXPECT_EQ(t.content_width, 128);
  EXPECT_EQ(t.content_height, 64);
  EXPECT_EQ(t.pad_x, 0);
  EXPECT_EQ(t.pad_y, 32);
  EXPECT_FLOAT_EQ(t.scale_x, 0.25f);
  // The image's corners land on the content rectangle's corners.
  const Point top_left = t.to_input({0, 0});
  EXPECT_FLOAT_EQ(top_left.x, 0.0f);
  EXPECT_FLOAT_EQ(top_left.y, 0.25f);
  const Point bottom_right = t.to_input({512, 256});
  EXPECT_FLOAT_EQ(bottom_right.x, 1.0f);
  EXPECT_FLOAT_EQ(bottom_right.y, 0.75f);
  // And back again.
  const Point back = t.to_image({0.5f, 0.5f});
  EXPECT_FLOAT_EQ(back.x, 256.0f);
  EXPECT_FLOAT_EQ(back.y, 128.0f);
}

TEST(Preprocess, LetterboxTallImageRoundTrips) {
  const InputTransform t = make_input_transform(342, 548, 192, 192, ResizeMode::kLetterbox);
  EXPECT_EQ(t.content_height, 192);
  EXPECT_EQ(t.content_width, 120);  // 342 * 192 / 548 = 119.8
  EXPECT_EQ(t.pad_x, 36);
  for (const Point p : {Point{0, 0}, Point{100.5f, 300.25f}, Point{342, 548}}) {
    const Point q = t.to_image(t.to_input(p));
    EXPECT_NEAR(q.x, p.x, 1e-3);
    EXPECT_NEAR(q.y, p.y, 1e-3);
  }
}

TEST(Preprocess, StretchFillsTheInput) {
  const InputTransform t = make_input_transform(600, 400, 300, 300, ResizeMode::kStretch);
  EXPECT_EQ(t.pad_x, 0);
  EXPECT_EQ(t.pad_y, 0);
  const Point p = t.to_image({1.0f, 1.0f});
  EXPECT_FLOAT_EQ(p.x, 600.0f);
  EXPECT_FLOAT_EQ(p.y, 400.0f);
}

TEST(Preprocess, RenderInputPadsWithBlackAndKeepsColourOrder) {
  // A pure red image: a mix-up of libyuv's B,G,R,A byte order would turn it blue.
  const Image red = solid(200, 100, 255, 0, 0);
  const Image input = render_input(red, make_input_transform(200, 100, 64, 64, ResizeMode::kLetterbox));
  ASSERT_EQ(input.channels, 3);
  ASSERT_EQ(input.width, 64);
  const uint8_t* border = input.at(32, 2);
  EXPECT_EQ(border[0], 0);
  EXPECT_EQ(border[1], 0);
  EXPECT_EQ(border[2], 0);
  // libyuv's filtered ARGB scaling loses up to 2 levels at fractional factors.
  const uint8_t* centre = input.at(32, 32);
  EXPECT_GE(centre[0], 252);
  EXPECT_EQ(centre[1], 0);
  EXPECT_EQ(centre[2], 0);
}

TEST(Preprocess, ResizeAndCropKeepChannelsAndColours) {
  for (int channels : {1, 3, 4}) {
    Image image(40, 20, channels);
    for (size_t i = 0; i < image.pixels.size(); ++i)
      image.pixels[i] = static_cast<uint8_t>(10 + 40 * (i % channels));
    const Image resized = resize_image(image, 13, 7);
    EXPECT_EQ(resized.width, 13);
    EXPECT_EQ(resized.channels, channels);
    for (int c = 0; c < channels; ++c) EXPECT_NEAR(resized.at(6, 3)[c], 10 + 40 * c, 2) << channels;
  }
  const Image g = testing::gradient_image(30, 20, 3);
  const Image crop = crop_image(g, 5, 4, 10, 6);
  EXPECT_EQ(crop.width, 10);
  EXPECT_EQ(crop.at(0, 0)[1], g.at(5, 4)[1]);
  EXPECT_EQ(crop.at(9, 5)[2], g.at(14, 9)[2]);
  EXPECT_THROW(crop_image(g, 25, 0, 10, 5), Error);
}

struct TensorBuffer {
  std::vector<uint8_t> bytes;
  Tensor tensor;
  TensorBuffer(DType type, int height, int width) {
    tensor.name = "input";
    tensor.type = type;
    tensor.shape = {1, height, width, 3};
    bytes.resize(tensor.num_bytes());
    tensor.data = bytes.data();
  }
};

Image three_pixels() {
  Image image(3, 1, 3);
  image.pixels = {0, 0, 0, 128, 128, 128, 255, 255, 255};
  return image;
}

TEST(Preprocess, FloatNormalisation) {
  TensorBuffer b(DType::kFloat32, 1, 3);
  fill_input_tensor(three_pixels(), {-1.0f, 1.0f}, b.tensor);
  const float* v = b.tensor.data_as<float>();
  EXPECT_FLOAT_EQ(v[0], -1.0f);
  EXPECT_NEAR(v[3], 0.00392f, 1e-4);
  EXPECT_FLOAT_EQ(v[8], 1.0f);
  fill_input_tensor(three_pixels(), {0.0f, 1.0f}, b.tensor);
  EXPECT_FLOAT_EQ(v[0], 0.0f);
  EXPECT_NEAR(v[4], 128.0f / 255.0f, 1e-6);
  EXPECT_FLOAT_EQ(v[8], 1.0f);
}

TEST(Preprocess, QuantizedNormalisationUsesScaleAndZeroPoint) {
  TensorBuffer u(DType::kUInt8, 1, 3);
  u.tensor.quant.scale = {1.0f / 255.0f};
  u.tensor.quant.zero_point = {0};
  fill_input_tensor(three_pixels(), {0.0f, 1.0f}, u.tensor);
  EXPECT_EQ(u.bytes[0], 0);
  EXPECT_EQ(u.bytes[3], 128);
  EXPECT_EQ(u.bytes[8], 255);

  // int8 in [-1, 1] with scale 1/128 and zero point 0: -128 .. 127 (clamped).
  TensorBuffer s(DType::kInt8, 1, 3);
  s.tensor.quant.scale = {1.0f / 128.0f};
  s.tensor.quant.zero_point = {0};
  fill_input_tensor(three_pixels(), {-1.0f, 1.0f}, s.tensor);
  const int8_t* q = s.tensor.data_as<int8_t>();
  EXPECT_EQ(q[0], -128);
  EXPECT_EQ(q[3], 1);  // 128 -> 0.0039 / (1/128) = 0.502 -> 1
  EXPECT_EQ(q[8], 127);

  // uint8 with a zero point of 128 for [-1, 1].
  TensorBuffer z(DType::kUInt8, 1, 3);
  z.tensor.quant.scale = {2.0f / 255.0f};
  z.tensor.quant.zero_point = {128};
  fill_input_tensor(three_pixels(), {-1.0f, 1.0f}, z.tensor);
  EXPECT_LE(z.bytes[0], 1);  // -1 / (2/255) + 128 = 0.5
  EXPECT_NEAR(z.bytes[3], 128, 1);
  EXPECT_EQ(z.bytes[8], 255);
}

TEST(Preprocess, RejectsMismatchedTensor) {
  TensorBuffer b(DType::kFloat32, 2, 3);
  EXPECT_THROW(fill_input_tensor(three_pixels(), {}, b.tensor), Error);
  TensorBuffer i32(DType::kInt32, 1, 3);
  EXPECT_THROW(fill_input_tensor(three_pixels(), {}, i32.tensor), Error);
}

}  // namespace
}  // namespace osprey::vision
