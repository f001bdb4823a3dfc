// Segmentation masks mapped back to the picture, and the annotation drawing.
#include <gtest/gtest.h>

#include "core/error.h"
#include "vision/draw.h"
#include "vision/font.h"
#include "vision/segmentation.h"

namespace osprey::vision {
namespace {

TEST(Segmentation, MaskFromTensorAndActivation) {
  std::vector<float> values = {0.0f, 0.25f, 1.0f, -2.0f};
  Tensor t;
  t.shape = {1, 2, 2, 1};
  t.data = reinterpret_cast<uint8_t*>(values.data());
  const Mask m = mask_from_tensor(t, MaskActivation::kNone);
  EXPECT_EQ(m.width, 2);
  EXPECT_FLOAT_EQ(m.values[1], 0.25f);
  EXPECT_FLOAT_EQ(mask_from_tensor(t, MaskActivation::kSigmoid).values[0], 0.5f);
  t.shape = {1, 2, 2, 3};
  EXPECT_THROW(mask_from_tensor(t, MaskActivation::kNone), Error);
}

TEST(Segmentation, LetterboxBorderIsCutAwayWhenResizingBack) {
  // 8x8 input holding a 8x4 letterboxed picture (pads of 2 rows): the mask is
  // 1 inside the content and 0 on the padding. Back on the 16x8 image it must
  // be 1 everywhere.
  const InputTransform t = make_input_transform(16, 8, 8, 8, ResizeMode::kLetterbox);
  ASSERT_EQ(t.pad_y, 2);
  Mask m{8, 8, std::vector<float>(64, 0.0f)};
  for (int y = 2; y < 6; ++y) {
    for (int x = 0; x < 8; ++x) m.values[static_cast<size_t>(y * 8 + x)] = 1.0f;
  }
  const Image back = mask_to_image(m, t);
  EXPECT_EQ(back.width, 16);
  EXPECT_EQ(back.height, 8);
  for (uint8_t v : back.pixels) EXPECT_EQ(v, 255);
}

TEST(Segmentation, ThresholdAndOverlay) {
  Image mask(2, 1, 1);
  mask.pixels = {100, 200};
  const Image binary = threshold_mask(mask, 0.5f);
  EXPECT_EQ(binary.pixels, (std::vector<uint8_t>{0, 255}));

  Image picture(2, 1, 3);
  picture.pixels = {0, 0, 0, 0, 0, 0};
  const Image blended = overlay_mask(picture, binary, {0, 200, 0}, 0.5f);
  EXPECT_EQ(blended.at(0, 0)[1], 0);
  EXPECT_EQ(blended.at(1, 0)[1], 100);
  EXPECT_THROW(overlay_mask(picture, Image(3, 1, 1), {}, 0.5f), Error);
}

TEST(Draw, BoxIsThickAndClipped) {
  Image image(40, 30, 3);
  draw_box(image, {5, 5, 35, 25}, {255, 0, 0}, 3);
  EXPECT_EQ(image.at(5, 5)[0], 255);
  EXPECT_EQ(image.at(7, 15)[0], 255);                         // inside the 3-pixel left stroke
  EXPECT_EQ(image.at(8, 15)[0], 0);                           // just inside it
  EXPECT_EQ(image.at(20, 15)[0], 0);                          // box interior untouched
  EXPECT_EQ(image.at(34, 24)[0], 255);                        // bottom right corner
  draw_box(image, {-100, -100, 1e9f, 1e9f}, {0, 255, 0}, 2);  // far outside: clipped, no crash
  EXPECT_EQ(image.at(0, 0)[1], 255);
}

TEST(Draw, TextUsesTheBitmapFont) {
  EXPECT_EQ(glyph('a'), glyph('A'));
  EXPECT_EQ(glyph('~'), glyph('?'));
  Image image(60, 20, 3);
  draw_text(image, 1, 1, "Face 0.97", {255, 255, 255}, 1);
  int lit = 0;
  for (size_t i = 0; i < image.pixels.size(); i += 3) lit += image.pixels[i] == 255;
  EXPECT_GT(lit, 40);
  EXPECT_EQ(text_width("AB", 2), 2 * 6 * 2 - 2);
}

TEST(Draw, AnnotateReturnsAnRgbCopy) {
  Image gray(50, 50, 1);
  Detection d;
  d.box = {10, 10, 40, 40};
  d.score = 0.9f;
  d.keypoints = {{20, 20}};
  const Image out = annotate_detections(gray, {{d, "face"}});
  EXPECT_EQ(out.channels, 3);
  EXPECT_EQ(out.width, 50);
  EXPECT_EQ(out.at(20, 20)[0], 255);  // red keypoint dot
}

}  // namespace
}  // namespace osprey::vision
