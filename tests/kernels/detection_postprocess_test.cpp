// TFLite_Detection_PostProcess on hand-made cases whose results are worked out
// by hand from TFLite's semantics (decode, score threshold, IoU suppression,
// stable tie order, regular and fast NMS, background column), plus its option
// parsing and the one-line errors for hostile options and shapes.
#include <flatbuffers/flexbuffers.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/op_tester.h"
#include "ops/registry.h"

// Cases name only the fields they need; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace osprey {
namespace {

using testing::OpTester;

constexpr const char* kOp = "TFLite_Detection_PostProcess";

// The options as a TFLite exporter writes them. Built here, not by osprey's
// writer (write_detection_postprocess), on purpose: an independent writer checks
// the parser against the format rather than against osprey's own encoding, and
// `extra` adds the malformed keys the error tests need.
std::vector<uint8_t> options_bytes(const DetectionPostprocessOptions& o,
                                   const std::function<void(flexbuffers::Builder&)>& extra = {}) {
  flexbuffers::Builder b;
  b.Map([&] {
    b.Int("max_detections", o.max_detections);
    b.Int("max_classes_per_detection", o.max_classes_per_detection);
    b.Int("detections_per_class", o.detections_per_class);
    b.Bool("use_regular_nms", o.use_regular_nms);
    b.Float("nms_score_threshold", o.nms_score_threshold);
    b.Float("nms_iou_threshold", o.nms_iou_threshold);
    b.Int("num_classes", o.num_classes);
    b.Float("y_scale", o.y_scale);
    b.Float("x_scale", o.x_scale);
    b.Float("h_scale", o.h_scale);
    b.Float("w_scale", o.w_scale);
    if (extra) extra(b);
  });
  b.Finish();
  return b.GetBuffer();
}

DetectionPostprocessOptions unit_options(int num_classes, bool regular) {
  DetectionPostprocessOptions o;
  o.max_detections = 10;
  o.max_classes_per_detection = 1;
  o.detections_per_class = 10;
  o.nms_score_threshold = 0.1f;
  o.nms_iou_threshold = 0.5f;
  o.num_classes = num_classes;
  o.y_scale = o.x_scale = o.h_scale = o.w_scale = 1;
  o.use_regular_nms = regular;
  return o;
}

struct PostprocessCase {
  DetectionPostprocessOptions options;
  std::vector<float> anchors;    // y, x, h, w per box
  std::vector<float> scores;     // boxes x columns
  std::vector<float> encodings;  // empty: zeros, so each box is its anchor
  int columns = 1;
};

struct Result {
  std::vector<float> boxes, classes, scores;
  float count = -1;
};

Result run_case(const PostprocessCase& c) {
  const int n = static_cast<int>(c.anchors.size() / 4);
  std::vector<float> encodings = c.encodings;
  if (encodings.empty()) encodings.assign(static_cast<size_t>(n) * 4, 0.0f);
  OpTester t({"ref"});
  t.add_input<float>({1, n, 4}, encodings);
  t.add_input<float>({1, n, c.columns}, c.scores);
  t.add_input<float>({n, 4}, c.anchors, true);
  for (int i = 0; i < 4; ++i) t.add_output(DType::kFloat32);
  t.set_custom_op(kOp, options_bytes(c.options));
  t.run();
  const int slots = c.options.max_detections * c.options.max_classes_per_detection;
  EXPECT_EQ(t.output_shape(0), (Shape{1, slots, 4}));
  EXPECT_EQ(t.output_shape(1), (Shape{1, slots}));
  EXPECT_EQ(t.output_shape(3), (Shape{1}));
  return {t.output_values<float>(0), t.output_values<float>(1), t.output_values<float>(2),
          t.output_values<float>(3)[0]};
}

// Box `slot` of the result, ymin, xmin, ymax, xmax.
std::vector<float> box(const Result& r, int slot) {
  return {r.boxes.begin() + 4 * slot, r.boxes.begin() + 4 * slot + 4};
}

void expect_box(const Result& r, int slot, std::vector<float> expected) {
  const std::vector<float> got = box(r, slot);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(got[i], expected[i], 1e-6) << "slot " << slot << " coord " << i;
}

void expect_empty_from(const Result& r, int slot) {
  for (size_t i = static_cast<size_t>(slot); i < r.scores.size(); ++i) {
    EXPECT_EQ(r.scores[i], 0.0f) << i;
    EXPECT_EQ(r.classes[i], 0.0f) << i;
    for (int k = 0; k < 4; ++k) EXPECT_EQ(r.boxes[4 * i + static_cast<size_t>(k)], 0.0f) << i;
  }
}

// Four unit boxes: 0 and 1 overlap (IoU 0.98), 3 overlaps 0 (IoU 0.9 / 1.1), 2 stands apart.
const std::vector<float> kAnchors = {0.5f, 0.5f, 1, 1, 0.5f, 0.5f, 1, 0.98f,
                                     2.5f, 2.5f, 1, 1, 0.5f, 0.6f, 1, 1};

TEST(DetectionPostprocess, DecodesWithScales) {
  PostprocessCase c{unit_options(1, false), {0.5f, 0.5f, 0.2f, 0.4f}, {0.9f}, {1, -2, 5 * std::log(2.0f), 0}};
  c.options.y_scale = c.options.x_scale = 10;
  c.options.h_scale = c.options.w_scale = 5;
  const Result r = run_case(c);
  ASSERT_EQ(r.count, 1);
  // yc = 1/10 * 0.2 + 0.5, xc = -2/10 * 0.4 + 0.5, half_h = 0.5 * 2 * 0.2, half_w = 0.5 * 0.4.
  expect_box(r, 0, {0.32f, 0.22f, 0.72f, 0.62f});
  EXPECT_EQ(r.classes[0], 0);
  EXPECT_FLOAT_EQ(r.scores[0], 0.9f);
  expect_empty_from(r, 1);
}

TEST(DetectionPostprocess, FastTieGoesToTheLowerAnchor) {
  // Boxes 0 and 1 tie at 0.8: box 0 wins and suppresses 1 and 3; box 2 survives.
  const Result r = run_case({unit_options(1, false), kAnchors, {0.8f, 0.8f, 0.7f, 0.6f}});
  ASSERT_EQ(r.count, 2);
  expect_box(r, 0, {0, 0, 1, 1});
  EXPECT_FLOAT_EQ(r.scores[0], 0.8f);
  expect_box(r, 1, {2, 2, 3, 3});
  EXPECT_FLOAT_EQ(r.scores[1], 0.7f);
  expect_empty_from(r, 2);
}

TEST(DetectionPostprocess, ScoreThresholdIsInclusive) {
  PostprocessCase c{unit_options(1, false), kAnchors, {0.05f, 0.09f, 0.1f, 0.0f}};
  const Result r = run_case(c);
  ASSERT_EQ(r.count, 1);  // 0.1 >= 0.1 passes; boxes 0, 1 and 3 do not
  expect_box(r, 0, {2, 2, 3, 3});
}

TEST(DetectionPostprocess, AllBelowThreshold) {
  for (bool regular : {false, true}) {
    const Result r = run_case({unit_options(1, regular), kAnchors, {0.05f, 0.01f, 0.0f, 0.09f}});
    EXPECT_EQ(r.count, 0) << regular;
    expect_empty_from(r, 0);
  }
}

TEST(DetectionPostprocess, MoreCandidatesThanMaxDetections) {
  // Five disjoint boxes; the best three by score are kept, in score order.
  std::vector<float> anchors;
  for (int i = 0; i < 5; ++i) anchors.insert(anchors.end(), {0.5f + 2 * i, 0.5f, 1, 1});
  for (bool regular : {false, true}) {
    PostprocessCase c{unit_options(1, regular), anchors, {0.1f, 0.5f, 0.3f, 0.9f, 0.7f}};
    c.options.max_detections = 3;
    const Result r = run_case(c);
    ASSERT_EQ(r.count, 3) << regular;
    EXPECT_EQ(r.scores, (std::vector<float>{0.9f, 0.7f, 0.5f}));
    expect_box(r, 0, {6, 0, 7, 1});
    expect_box(r, 1, {8, 0, 9, 1});
    expect_box(r, 2, {2, 0, 3, 1});
  }
}

TEST(DetectionPostprocess, BackgroundColumnIsSkipped) {
  // Column 0 is the background (num_classes + 1 columns): never reported, never counted.
  const std::vector<float> anchors = {0.5f, 0.5f, 1, 1, 2.5f, 2.5f, 1, 1};
  const std::vector<float> scores = {0.99f, 0.2f, 0.6f, 0.99f, 0.7f, 0.1f};
  PostprocessCase c{unit_options(2, false), anchors, scores, {}, 3};
  c.options.nms_score_threshold = 0.3f;
  Result r = run_case(c);
  ASSERT_EQ(r.count, 2);
  EXPECT_EQ(r.classes[0], 0);  // box 1's column 1
  EXPECT_FLOAT_EQ(r.scores[0], 0.7f);
  EXPECT_EQ(r.classes[1], 1);  // box 0's column 2
  EXPECT_FLOAT_EQ(r.scores[1], 0.6f);
  expect_box(r, 0, {2, 2, 3, 3});

  // Two classes per detection: each box reports its top two classes, whatever their scores.
  c.options.max_classes_per_detection = 2;
  r = run_case(c);
  ASSERT_EQ(r.count, 2);
  EXPECT_EQ(r.classes[0], 0);
  EXPECT_EQ(r.classes[1], 1);
  EXPECT_FLOAT_EQ(r.scores[1], 0.1f);
  EXPECT_EQ(r.classes[2], 1);
  EXPECT_EQ(r.classes[3], 0);
  EXPECT_FLOAT_EQ(r.scores[3], 0.2f);
  expect_box(r, 1, {2, 2, 3, 3});
  expect_box(r, 3, {0, 0, 1, 1});
  expect_empty_from(r, 4);

  // Regular NMS with the same background column.
  c.options.max_classes_per_detection = 1;
  c.options.use_regular_nms = true;
  r = run_case(c);
  ASSERT_EQ(r.count, 2);
  EXPECT_EQ(r.classes[0], 0);
  EXPECT_EQ(r.classes[1], 1);
}

// Two classes, no background: box 0 (0.9, 0.3), box 1 (0.8, 0.85), box 2 (0.4, 0.4).
PostprocessCase two_class_case(bool regular) {
  const std::vector<float> anchors(kAnchors.begin(), kAnchors.begin() + 12);
  PostprocessCase c{unit_options(2, regular), anchors, {0.9f, 0.3f, 0.8f, 0.85f, 0.4f, 0.4f}, {}, 2};
  c.options.nms_score_threshold = 0.35f;
  return c;
}

TEST(DetectionPostprocess, RegularRunsPerClassAndMergesStably) {
  const Result r = run_case(two_class_case(true));
  // Class 0 keeps boxes 0 and 2 (1 is suppressed by 0); class 1 keeps boxes 1 and 2.
  // Merged by score; box 2's equal scores keep class order.
  ASSERT_EQ(r.count, 4);
  EXPECT_EQ(r.scores, (std::vector<float>{0.9f, 0.85f, 0.4f, 0.4f, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(r.classes, (std::vector<float>{0, 1, 0, 1, 0, 0, 0, 0, 0, 0}));
  expect_box(r, 0, {0, 0, 1, 1});
  expect_box(r, 1, {0, 0.01f, 1, 0.99f});
  expect_box(r, 2, {2, 2, 3, 3});
  expect_box(r, 3, {2, 2, 3, 3});
}

TEST(DetectionPostprocess, RegularLimits) {
  PostprocessCase c = two_class_case(true);
  c.options.max_detections = 3;
  c.options.detections_per_class = 1;  // one box per class
  Result r = run_case(c);
  ASSERT_EQ(r.count, 2);
  EXPECT_EQ(r.classes[0], 0);
  EXPECT_EQ(r.classes[1], 1);
  c.options.detections_per_class = 2;  // the fourth candidate falls past max_detections
  r = run_case(c);
  ASSERT_EQ(r.count, 3);
  EXPECT_EQ(r.classes, (std::vector<float>{0, 1, 0}));
  expect_box(r, 2, {2, 2, 3, 3});
}

TEST(DetectionPostprocess, FastSuppressesAcrossClasses) {
  const Result r = run_case(two_class_case(false));
  // Each box competes with its best class: box 0 (0.9) suppresses box 1 (0.85, class 1).
  ASSERT_EQ(r.count, 2);
  EXPECT_EQ(r.classes[0], 0);
  EXPECT_FLOAT_EQ(r.scores[0], 0.9f);
  EXPECT_EQ(r.classes[1], 0);  // box 2's tie between classes: the first
  EXPECT_FLOAT_EQ(r.scores[1], 0.4f);
  expect_box(r, 1, {2, 2, 3, 3});
}

// uint8 and int8 inputs are dequantized ((q - zero point) * scale) before the float path.
TEST(DetectionPostprocess, QuantizedInputsMatchTheirDequantizedValues) {
  const float score_scale = 1.0f / 256, box_scale = 0.05f, anchor_scale = 0.02f;
  const std::vector<uint8_t> scores = {204, 204, 179, 154};  // 0.797 tied, 0.699, 0.602
  const std::vector<uint8_t> encodings = {130, 128, 132, 124, 128, 128, 128, 128,
                                          128, 128, 128, 128, 128, 140, 128, 128};
  const std::vector<uint8_t> anchors = {25, 25, 50, 50, 25, 25, 50, 49, 125, 125, 50, 50, 25, 30, 50, 50};
  auto real = [](const std::vector<uint8_t>& q, float scale, int zp) {
    std::vector<float> v;
    for (uint8_t x : q) v.push_back(static_cast<float>(x - zp) * scale);
    return v;
  };
  PostprocessCase c{unit_options(1, false), real(anchors, anchor_scale, 0), real(scores, score_scale, 0),
                    real(encodings, box_scale, 128)};
  const Result expected = run_case(c);
  ASSERT_EQ(expected.count, 3);  // box 0 suppresses box 1; boxes 2 and 3 stay

  for (DType type : {DType::kUInt8, DType::kInt8}) {
    const int shift = type == DType::kInt8 ? -128 : 0;
    auto bytes = [&](const std::vector<uint8_t>& q) {
      std::vector<uint8_t> b;
      for (uint8_t x : q) b.push_back(static_cast<uint8_t>(x + shift));
      return b;
    };
    auto params = [&](float scale, int zp) { return Quantization{{scale}, {zp + shift}}; };
    OpTester t({"ref"});
    t.add_raw_input(type, {1, 4, 4}, bytes(encodings), false, params(box_scale, 128));
    t.add_raw_input(type, {1, 4, 1}, bytes(scores), false, params(score_scale, 0));
    t.add_raw_input(type, {4, 4}, bytes(anchors), true, params(anchor_scale, 0));
    for (int i = 0; i < 4; ++i) t.add_output(DType::kFloat32);
    t.set_custom_op(kOp, options_bytes(c.options));
    t.run();
    EXPECT_EQ(t.output_values<float>(0), expected.boxes) << dtype_name(type);
    EXPECT_EQ(t.output_values<float>(1), expected.classes) << dtype_name(type);
    EXPECT_EQ(t.output_values<float>(2), expected.scores) << dtype_name(type);
    EXPECT_EQ(t.output_values<float>(3)[0], 3) << dtype_name(type);
  }
}

TEST(DetectionPostprocess, OptionsRoundTripThroughTheWriter) {
  DetectionPostprocessOptions o = unit_options(90, true);
  o.max_detections = 100;
  o.max_classes_per_detection = 1;
  o.detections_per_class = 100;
  o.nms_score_threshold = 1e-8f;
  o.nms_iou_threshold = 0.6f;
  o.y_scale = 10, o.x_scale = 10, o.h_scale = 5, o.w_scale = 5;
  const ops::OpDef* def = ops::find_op(static_cast<int32_t>(OpCode::kCustom), kOp);
  ASSERT_NE(def, nullptr);
  ASSERT_NE(def->write_custom, nullptr);
  const auto parse = [](const std::vector<uint8_t>& bytes) {
    return std::get<DetectionPostprocessOptions>(
        ops::parse_options(static_cast<int32_t>(OpCode::kCustom), kOp, {nullptr, bytes}));
  };
  const DetectionPostprocessOptions parsed = parse(options_bytes(o));
  Op op;
  op.code = static_cast<int32_t>(OpCode::kCustom);
  op.custom_code = kOp;
  op.options = parsed;
  const DetectionPostprocessOptions again = parse(def->write_custom(op));
  for (const DetectionPostprocessOptions* p : {&parsed, &again}) {
    EXPECT_EQ(p->max_detections, 100);
    EXPECT_EQ(p->max_classes_per_detection, 1);
    EXPECT_EQ(p->detections_per_class, 100);
    EXPECT_TRUE(p->use_regular_nms);
    EXPECT_EQ(p->nms_score_threshold, 1e-8f);
    EXPECT_EQ(p->nms_iou_threshold, 0.6f);
    EXPECT_EQ(p->num_classes, 90);
    EXPECT_EQ(p->y_scale, 10);
    EXPECT_EQ(p->w_scale, 5);
  }
}

TEST(DetectionPostprocess, DefaultsOfOptionalKeys) {
  flexbuffers::Builder b;
  b.Map([&] {
    b.Int("max_detections", 10);
    b.Int("max_classes_per_detection", 1);
    b.Float("nms_iou_threshold", 0.5f);
    b.Int("num_classes", 3);
    for (const char* k : {"y_scale", "x_scale", "h_scale", "w_scale"}) b.Float(k, 1);
  });
  b.Finish();
  const auto o = std::get<DetectionPostprocessOptions>(
      ops::parse_options(static_cast<int32_t>(OpCode::kCustom), kOp, {nullptr, b.GetBuffer()}));
  EXPECT_EQ(o.detections_per_class, 100);
  EXPECT_FALSE(o.use_regular_nms);
  EXPECT_EQ(o.nms_score_threshold, 0.0f);
}

void expect_option_error(const std::vector<uint8_t>& bytes, const std::string& reason) {
  try {
    ops::parse_options(static_cast<int32_t>(OpCode::kCustom), kOp, {nullptr, bytes});
    ADD_FAILURE() << "no error, expected: " << reason;
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(reason), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(DetectionPostprocess, MalformedOptions) {
  const DetectionPostprocessOptions good = unit_options(2, false);
  expect_option_error({}, "custom options are missing");
  expect_option_error({1, 2, 3, 4, 5}, "not a valid flexbuffer");
  {
    flexbuffers::Builder b;
    b.Int(7);
    b.Finish();
    expect_option_error(b.GetBuffer(), "not a map");
  }
  std::vector<uint8_t> truncated = options_bytes(good);
  truncated.erase(truncated.begin(), truncated.begin() + 20);
  expect_option_error(truncated, "flexbuffer");

  auto with = [&](auto change) {
    DetectionPostprocessOptions o = good;
    change(o);
    return options_bytes(o);
  };
  expect_option_error(with([](auto& o) { o.max_detections = 0; }), "'max_detections' is 0");
  expect_option_error(with([](auto& o) { o.max_classes_per_detection = -1; }), "'max_classes_per_detection'");
  expect_option_error(with([](auto& o) { o.nms_iou_threshold = 0; }), "'nms_iou_threshold' is 0");
  expect_option_error(with([](auto& o) { o.nms_iou_threshold = 1.5f; }), "'nms_iou_threshold' is 1.5");
  expect_option_error(with([](auto& o) { o.num_classes = 0; }), "'num_classes' is 0");
  expect_option_error(with([](auto& o) { o.h_scale = 0; }), "'h_scale' is 0");
  expect_option_error(with([](auto& o) { o.x_scale = NAN; }), "'x_scale'");
  expect_option_error(with([](auto& o) {
                        o.use_regular_nms = true;
                        o.detections_per_class = 0;
                      }),
                      "'detections_per_class' is 0");
  expect_option_error(with([](auto& o) {
                        o.max_detections = 65536;
                        o.max_classes_per_detection = 2;
                      }),
                      "exceeds");
  // A key written as a string.
  flexbuffers::Builder b;
  b.Map([&] {
    b.String("max_detections", "ten");
    b.Int("max_classes_per_detection", 1);
  });
  b.Finish();
  expect_option_error(b.GetBuffer(), "'max_detections' is a string");
  // A required key absent.
  flexbuffers::Builder m;
  m.Map([&] { m.Int("max_detections", 3); });
  m.Finish();
  expect_option_error(m.GetBuffer(), "'max_classes_per_detection' is missing");
}

void expect_prepare_error(const std::function<void(OpTester&)>& build, const std::string& reason) {
  OpTester t({"ref"});
  build(t);
  for (int i = 0; i < 4; ++i) t.add_output(DType::kFloat32);
  t.set_custom_op(kOp, options_bytes(unit_options(2, false)));
  try {
    t.run();
    ADD_FAILURE() << "no error, expected: " << reason;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
  }
}

TEST(DetectionPostprocess, HostileShapesAndTypes) {
  const std::vector<float> four(4 * 3, 0.5f), scores(3 * 3, 0.5f),
      anchors = {0.5f, 0.5f, 1, 1, 0.5f, 0.5f, 1, 1, 0.5f, 0.5f, 1, 1};
  expect_prepare_error(
      [&](OpTester& t) {
        t.add_input<float>({1, 3, 3}, std::vector<float>(9, 0));
        t.add_input<float>({1, 3, 3}, scores);
        t.add_input<float>({3, 4}, anchors, true);
      },
      "box encodings have shape");
  expect_prepare_error(
      [&](OpTester& t) {
        t.add_input<float>({1, 3, 4}, four);
        t.add_input<float>({1, 3, 4}, std::vector<float>(12, 0));
        t.add_input<float>({3, 4}, anchors, true);
      },
      "class predictions have 4 columns");
  expect_prepare_error(
      [&](OpTester& t) {
        t.add_input<float>({1, 3, 4}, four);
        t.add_input<float>({1, 2, 3}, std::vector<float>(6, 0));
        t.add_input<float>({3, 4}, anchors, true);
      },
      "class predictions have shape");
  expect_prepare_error(
      [&](OpTester& t) {
        t.add_input<float>({1, 3, 4}, four);
        t.add_input<float>({1, 3, 3}, scores);
        t.add_input<float>({2, 4}, std::vector<float>(8, 1), true);
      },
      "anchors have shape");
  expect_prepare_error(
      [&](OpTester& t) {
        t.add_input<float>({1, 3, 4}, four);
        t.add_input<float>({1, 3, 3}, scores);
        t.add_input<float>({3, 4}, {0.5f, 0.5f, -1, 1, 0.5f, 0.5f, 1, 1, 0.5f, 0.5f, 1, 1}, true);
      },
      "negative height or width");
  expect_prepare_error(
      [&](OpTester& t) {
        t.add_input<float>({1, 3, 4}, four);
        t.add_input<int32_t>({1, 3, 3}, std::vector<int32_t>(9, 1));
        t.add_input<float>({3, 4}, anchors, true);
      },
      "class predictions is int32");
  expect_prepare_error(
      [&](OpTester& t) {
        t.add_input<float>({1, 3, 4}, four);
        t.add_raw_input(DType::kUInt8, {1, 3, 3}, std::vector<uint8_t>(9, 1), false);
        t.add_input<float>({3, 4}, anchors, true);
      },
      "without per-tensor quantization");
  expect_prepare_error(
      [&](OpTester& t) {
        t.add_input<float>({1, 3, 4}, four);
        t.add_input<float>({1, 3, 3}, scores);
      },
      "has 2 inputs");
}

}  // namespace
}  // namespace osprey
