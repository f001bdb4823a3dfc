// OCR text: character lists, greedy CTC decoding, input tensors, the ASCII
// fallback of annotations, and the pipeline wired to fake models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "vision/ocr/annotate.h"
#include "vision/ocr/ctc_decode.h"
#include "vision/ocr/ocr_pipeline.h"
#include "vision/ocr/text_preprocess.h"

namespace osprey::vision::ocr {
namespace {

// Each step puts `p` on one class and spreads the rest evenly.
std::vector<float> steps_of(const std::vector<int>& classes, int num_classes, float p = 0.9f) {
  std::vector<float> values;
  for (const int c : classes) {
    for (int k = 0; k < num_classes; ++k)
      values.push_back(k == c ? p : (1 - p) / static_cast<float>(num_classes - 1));
  }
  return values;
}

TEST(OcrCharset, BlankKeysThenSpace) {
  const Charset charset = Charset::parse("a\nb\r\n\xe4\xb8\xad", "keys");
  ASSERT_EQ(charset.size(), 5);
  EXPECT_EQ(charset.at(0), "");
  EXPECT_EQ(charset.at(1), "a");
  EXPECT_EQ(charset.at(2), "b");
  EXPECT_EQ(charset.at(3), "\xe4\xb8\xad");
  EXPECT_EQ(charset.at(4), " ");
  EXPECT_THROW(Charset::parse("a\n\nb", "keys"), Error);
  EXPECT_THROW(Charset::parse("", "keys"), Error);
}

TEST(OcrCtc, CollapsesRepeatsAndDropsBlanks) {
  const Charset charset = Charset::parse("a\nb\nc", "keys");  // 1 a, 2 b, 3 c, 4 space
  // a a _ a b b space _ c: repeats collapse, a blank separates the two a's.
  const std::vector<float> p = steps_of({1, 1, 0, 1, 2, 2, 4, 0, 3}, charset.size());
  const Recognition r = ctc_greedy_decode(p, 9, charset);
  EXPECT_EQ(r.text, "aab c");
  EXPECT_NEAR(r.score, 0.9f, 1e-6);
}

TEST(OcrCtc, ScoreIsTheMeanOfTheKeptSteps) {
  const Charset charset = Charset::parse("x\ny", "keys");
  std::vector<float> p = steps_of({1, 2}, charset.size(), 0.8f);
  const std::vector<float> second = steps_of({2}, charset.size(), 0.6f);
  std::copy(second.begin(), second.end(), p.begin() + charset.size());
  const Recognition r = ctc_greedy_decode(p, 2, charset);
  EXPECT_EQ(r.text, "xy");
  EXPECT_NEAR(r.score, 0.7f, 1e-6);
  const Recognition blank = ctc_greedy_decode(steps_of({0, 0}, charset.size()), 2, charset);
  EXPECT_EQ(blank.text, "");
  EXPECT_EQ(blank.score, 0.0f);
  EXPECT_THROW(ctc_greedy_decode(p, 3, charset), Error);
}

TEST(OcrPreprocess, DetectorSizeIsCappedAndRoundedTo32) {
  const auto size = [](int w, int h, int limit = 960) {
    const Size s = detector_input_size(w, h, {limit, LimitType::kMax});
    return std::pair(s.width, s.height);
  };
  EXPECT_EQ(size(516, 333), std::pair(512, 320));
  EXPECT_EQ(size(384, 191), std::pair(384, 192));
  EXPECT_EQ(size(2000, 1000), std::pair(960, 480));
  EXPECT_EQ(size(10, 10), std::pair(32, 32));
  EXPECT_EQ(size(336, 100), std::pair(320, 96));  // 10.5 rounds to even
  EXPECT_THROW(detector_input_size(0, 10, {}), Error);
  EXPECT_THROW(detector_input_size(10, 10, {16, LimitType::kMax}), Error);
}

TEST(OcrPreprocess, MinLimitScalesSmallPicturesUp) {
  const auto size = [](int w, int h, int limit, int max_side = 4000) {
    const Size s = detector_input_size(w, h, {limit, LimitType::kMin, max_side});
    return std::pair(s.width, s.height);
  };
  // 384x191: ratio 736/191, 1479x736 rounded to 1472x736.
  EXPECT_EQ(size(384, 191, 736), std::pair(1472, 736));
  EXPECT_EQ(size(2000, 1000, 736), std::pair(1984, 992));  // never down; 62.5 rounds to even
  // A thin strip would be scaled to 73600 wide: the longer side is held at max_side.
  EXPECT_EQ(size(1000, 10, 736), std::pair(4000, 32));
  EXPECT_EQ(size(1000, 10, 736, 2048), std::pair(2048, 32));
}

TEST(OcrPreprocess, ChannelsAreBgrAndNormalised) {
  Image red(1, 1, 3);
  red.pixels = {255, 0, 0};
  const FloatTensor t = to_tensor(red, {1, 1}, 1, kDetectorNormalization);
  ASSERT_EQ(t.shape, (std::vector<int64_t>{1, 3, 1, 1}));
  EXPECT_NEAR(t.values[0], (0 - 0.485f) / 0.229f, 1e-5);  // B
  EXPECT_NEAR(t.values[1], (0 - 0.456f) / 0.224f, 1e-5);  // G
  EXPECT_NEAR(t.values[2], (1 - 0.406f) / 0.225f, 1e-5);  // R
}

TEST(OcrPreprocess, LinesKeepTheirAspectAndArePaddedWithZeros) {
  Image line(20, 10, 3);
  std::fill(line.pixels.begin(), line.pixels.end(), uint8_t{255});
  const FloatTensor t = line_tensor(line, 48, 192);
  ASSERT_EQ(t.shape, (std::vector<int64_t>{1, 3, 48, 192}));
  // White (1 after normalisation) over the 96 resized columns; libyuv's
  // filter may shade the last column by a step or two.
  for (size_t x = 0; x < 96; ++x) EXPECT_NEAR(t.values[x], 1.0f, 0.02f) << x;
  for (size_t x = 96; x < 192; ++x) EXPECT_EQ(t.values[x], 0.0f) << x;  // padding
  Image wide(1000, 10, 3);
  const FloatTensor squeezed = line_tensor(wide, 48, 192);
  EXPECT_EQ(squeezed.shape[3], 192);
}

// resize_norm_img's cv2.resize: pixel centres aligned, and when shrinking
// each output pixel interpolates between two source pixels, no averaging.
TEST(OcrPreprocess, LinesAreResizedAsOpenCvDoes) {
  const auto first_channel = [](const FloatTensor& t, size_t count) {
    std::vector<int> values;
    for (size_t x = 0; x < count; ++x)
      values.push_back(static_cast<int>(std::lround((t.values[x] * 0.5f + 0.5f) * 255)));
    return values;
  };
  Image two(2, 1, 3);
  two.pixels = {0, 0, 0, 100, 100, 100};
  EXPECT_EQ(first_channel(line_tensor(two, 2, 4), 4), (std::vector<int>{0, 25, 75, 100}));
  Image six(6, 2, 3);
  std::fill(six.pixels.begin(), six.pixels.end(), uint8_t{0});
  for (int y = 0; y < 2; ++y) std::fill_n(six.at(2, y), 3, uint8_t{90});
  // Output pixels sample source columns 1 and 4 exactly; a box filter would give 30 and 0.
  EXPECT_EQ(first_channel(line_tensor(six, 1, 2), 2), (std::vector<int>{0, 0}));
}

TEST(OcrAnnotate, NonAsciiBecomesOneQuestionMarkEach) {
  EXPECT_EQ(printable_ascii("ab c"), "ab c");
  EXPECT_EQ(printable_ascii("a\xe4\xb8\xad\xe6\x96\x87z\n"), "a??z?");
}

// A detector that sees one text block, a classifier that says "upside down"
// and a recogniser that reads "ab".
TextModels fake_models(std::vector<std::vector<int64_t>>& rec_shapes, int classes) {
  TextModels m;
  m.detector = [](const FloatTensor& in) {
    const int64_t h = in.shape[2], w = in.shape[3];
    FloatTensor map{{1, 1, h, w}, std::vector<float>(static_cast<size_t>(h * w), 0.0f)};
    for (int64_t y = 10; y < 20; ++y) {
      for (int64_t x = 8; x < 56; ++x) map.values[static_cast<size_t>(y * w + x)] = 0.95f;
    }
    return map;
  };
  m.classifier = [](const FloatTensor&) { return FloatTensor{{1, 2}, {0.05f, 0.95f}}; };
  m.recognizer = [&rec_shapes, classes](const FloatTensor& in) {
    rec_shapes.push_back(in.shape);
    return FloatTensor{{1, 3, classes}, steps_of({1, 0, 2}, classes)};
  };
  return m;
}

TEST(OcrPipeline, RunsTheThreeModelsInTurn) {
  const Charset charset = Charset::parse("a\nb", "keys");
  std::vector<std::vector<int64_t>> rec_shapes;
  const TextModels models = fake_models(rec_shapes, charset.size());
  Image image(64, 32, 3);
  // The picture as it is (the defaults would scale it up to 1472x736).
  OcrParams as_is;
  as_is.det_resize.limit_type = LimitType::kMax;
  const OcrResult result = read_text(image, models, charset, as_is);
  EXPECT_EQ(result.detector_width, 64);
  EXPECT_EQ(result.detector_height, 32);
  ASSERT_EQ(result.lines.size(), 1u);
  EXPECT_EQ(result.lines[0].text, "ab");
  EXPECT_TRUE(result.lines[0].turned);
  EXPECT_NEAR(result.lines[0].box_score, 0.95f, 1e-5);
  ASSERT_EQ(rec_shapes.size(), 1u);
  EXPECT_EQ(rec_shapes[0], (std::vector<int64_t>{1, 3, 48, 320}));

  OcrParams strict = as_is;
  strict.drop_score = 0.95f;
  EXPECT_TRUE(read_text(image, models, charset, strict).lines.empty());
  const OcrResult upscaled = read_text(image, models, charset);
  EXPECT_EQ(upscaled.detector_width, 1472);
  EXPECT_EQ(upscaled.detector_height, 736);
}

TEST(OcrPipeline, LinesArePaddedToTheWidestOfTheirBatch) {
  // Aspect ratios 2, 10, 4, 12, 3, 20, 5, 8 (height 10). By ratio: batch
  // {2, 3, 4, 5, 8, 10} pads to max(320, 48 * 10) = 480; {12, 20} to 960.
  std::vector<Image> crops;
  for (const int w : {20, 100, 40, 120, 30, 200, 50, 80}) crops.emplace_back(w, 10, 3);
  const std::vector<int> widths = recognition_widths(crops, {});
  EXPECT_EQ(widths, (std::vector<int>{480, 480, 480, 960, 480, 960, 480, 480}));
  OcrParams narrow;
  narrow.rec_max_width = 600;  // the bound on the tensor still holds
  narrow.rec_batch = 1;        // one line a batch: each at its own width
  EXPECT_EQ(recognition_widths(crops, narrow), (std::vector<int>{320, 480, 320, 576, 320, 600, 320, 384}));
  EXPECT_TRUE(recognition_widths({}, {}).empty());
}

TEST(OcrPipeline, MalformedModelOutputsAreErrors) {
  const Charset charset = Charset::parse("a\nb", "keys");
  std::vector<std::vector<int64_t>> rec_shapes;
  Image image(64, 32, 3);
  OcrParams as_is;  // the fake detector's block is drawn for the picture's own size
  as_is.det_resize.limit_type = LimitType::kMax;
  TextModels wrong_classes = fake_models(rec_shapes, charset.size() + 1);
  EXPECT_THROW(read_text(image, wrong_classes, charset, as_is), Error);
  TextModels small_map = fake_models(rec_shapes, charset.size());
  small_map.detector = [](const FloatTensor&) {
    return FloatTensor{{1, 1, 2, 2}, std::vector<float>(4, 1.0f)};
  };
  EXPECT_THROW(read_text(image, small_map, charset, as_is), Error);
  TextModels lying_shape = fake_models(rec_shapes, charset.size());
  lying_shape.classifier = [](const FloatTensor&) { return FloatTensor{{1, 3}, {0.1f, 0.9f}}; };
  EXPECT_THROW(read_text(image, lying_shape, charset, as_is), Error);
  TextModels no_detector;
  EXPECT_THROW(read_text(image, no_detector, charset, as_is), Error);
}

}  // namespace
}  // namespace osprey::vision::ocr
