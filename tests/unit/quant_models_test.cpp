// Quantizing real zoo models on the sample photos (skipped when the zoo or
// the photos have not been fetched): the quantized face detectors find the
// same faces as the float ones (IoU >= 0.5), and every model loads and runs.
#include <gtest/gtest.h>

#include <filesystem>

#include "quant/metrics.h"
#include "quant/pipeline.h"
#include "quant/targets.h"
#include "runtime/interpreter.h"
#include "support/sanitizer.h"
#include "vision/model_metadata.h"

namespace osprey {
namespace {

using test::kSanitized;

struct Fixture {
  std::string model;
  std::vector<std::string> photos;
  vision::ModelSpec spec;
};

std::optional<Fixture> fixture(const std::string& name) {
  if (kSanitized) return std::nullopt;
  const std::string cache = vision::cache_dir();
  Fixture f;
  f.model = cache + "/models/" + name + ".tflite";
  for (const char* p : {"astronaut.png", "coffee.png", "messi5.jpg"})
    f.photos.push_back(cache + "/media/" + p);
  if (!std::filesystem::exists(f.model)) return std::nullopt;
  for (const std::string& p : f.photos) {
    if (!std::filesystem::exists(p)) return std::nullopt;
  }
  f.spec = vision::load_model_spec(vision::zoo_manifest_path(), name);
  return f;
}

quant::InputRecipe recipe_of(const vision::ModelSpec& spec) {
  return {spec.input.width, spec.input.height, spec.input.normalization, spec.input.resize};
}

// Calibrated on `calibration` (default: the photos), evaluated on the photos.
quant::ComparisonReport quantize_and_compare(const Fixture& f, quant::Granularity granularity,
                                             std::vector<uint8_t>* bytes = nullptr,
                                             std::vector<std::string> calibration_files = {},
                                             bool head_bounds = true) {
  auto interp = Interpreter::load(f.model);
  if (calibration_files.empty()) calibration_files = f.photos;
  const quant::SampleSource calibration(calibration_files, 16, true, recipe_of(f.spec));
  quant::QuantizeOptions options;
  options.granularity = granularity;
  options.image_input = f.spec.input.normalization;
  if (head_bounds) options.output_bounds = f.spec.head->output_bounds();
  quant::QuantizationRun run = quant::quantize_model(interp->graph(), calibration, options);
  EXPECT_TRUE(run.quantized.float_ops.empty());
  auto quantized = Interpreter::from_buffer(run.model, "quantized");
  const quant::SampleSource photos(f.photos, 3, false, recipe_of(f.spec));
  quant::CompareOptions co;
  co.spec = f.spec;
  if (bytes) *bytes = run.model;
  return quant::compare_graphs(interp->graph(), quantized->graph(), photos, co);
}

class QuantFaceDetection : public ::testing::TestWithParam<std::string> {};

TEST_P(QuantFaceDetection, FindsTheSameFacesAsTheFloatModel) {
  const auto f = fixture(GetParam());
  if (!f) GTEST_SKIP() << "zoo model or sample photos not fetched (or a sanitizer build)";
  for (quant::Granularity g : {quant::Granularity::kPerChannel, quant::Granularity::kPerTensor}) {
    const quant::ComparisonReport r = quantize_and_compare(*f, g);
    ASSERT_TRUE(r.detections.has_value());
    EXPECT_GE(r.detections->reference, 1);
    EXPECT_EQ(r.detections->found, r.detections->reference) << quant::format_report(r);
    EXPECT_GE(r.detections->mean_iou, 0.5);
    // Short-range BlazeFace's logits span [-210, 20]: per-tensor int8 keeps them only roughly.
    for (const quant::OutputReport& o : r.outputs) EXPECT_GT(o.metrics.cosine, 0.8) << o.name;
  }
}

// A page of text among the calibration photos drives the short-range
// detector's score logits to about -5000; ranged within the head's clamp
// (+-100) the scores near the threshold keep their precision.
TEST(QuantZooModels, APageOfTextInTheCalibrationLeavesTheScoresFine) {
  const auto f = fixture("face_detection_short_range");
  const std::string page = vision::cache_dir() + "/media/page.png";
  if (!f || !std::filesystem::exists(page))
    GTEST_SKIP() << "zoo model or sample photos not fetched (or a sanitizer build)";
  std::vector<std::string> files = f->photos;
  files.push_back(page);
  const quant::ComparisonReport bounded =
      quantize_and_compare(*f, quant::Granularity::kPerChannel, nullptr, files);
  ASSERT_TRUE(bounded.detections.has_value());
  EXPECT_EQ(bounded.detections->found, bounded.detections->reference) << quant::format_report(bounded);
  EXPECT_LE(bounded.detections->test, bounded.detections->reference + 2) << quant::format_report(bounded);
  const quant::ComparisonReport unbounded =
      quantize_and_compare(*f, quant::Granularity::kPerChannel, nullptr, files, false);
  EXPECT_GT(unbounded.detections->test, 50) << quant::format_report(unbounded);
}

// The page is named as the file that widens the detector's ranges; the
// three photos alone raise no warning.
TEST(QuantZooModels, APageOfTextIsNamedAsACalibrationOutlier) {
  const auto f = fixture("face_detection_short_range");
  const std::string page = vision::cache_dir() + "/media/page.png";
  if (!f || !std::filesystem::exists(page))
    GTEST_SKIP() << "zoo model or sample photos not fetched (or a sanitizer build)";
  auto interp = Interpreter::load(f->model);
  quant::QuantizeOptions options;
  options.image_input = f->spec.input.normalization;
  options.output_bounds = f->spec.head->output_bounds();
  const quant::SampleSource photos(f->photos, 16, true, recipe_of(f->spec));
  const quant::QuantizationRun clean = quant::quantize_model(interp->graph(), photos, options);
  EXPECT_TRUE(clean.warnings.empty()) << clean.warnings[0];
  std::vector<std::string> files = f->photos;
  files.push_back(page);
  const quant::SampleSource with_page(files, 16, true, recipe_of(f->spec));
  const quant::QuantizationRun run = quant::quantize_model(interp->graph(), with_page, options);
  ASSERT_EQ(run.outliers.size(), 1u);
  EXPECT_EQ(with_page.file(run.outliers[0].file), page);
  ASSERT_EQ(run.warnings.size(), 1u);
  EXPECT_NE(run.warnings[0].find("calibration file page.png widens"), std::string::npos) << run.warnings[0];
  // --drop-outliers asks before quantizing, with any method: the same file.
  options.method = quant::CalibrationMethod::kEntropy;
  const std::vector<quant::RangeOutlier> asked =
      quant::calibration_outliers(quant::calibrate_model(interp->graph(), with_page, options, true), options);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].file, run.outliers[0].file);
  EXPECT_EQ(asked[0].tensors, run.outliers[0].tensors);
}

// --method auto with per-tensor weights: plain and equalized calibrations,
// each method tried on the photos, the most accurate kept, and its file is
// the one that method alone makes.
TEST(QuantZooModels, MethodAutoKeepsTheMostAccurate) {
  const auto f = fixture("face_detection_short_range");
  if (!f) GTEST_SKIP() << "zoo model or sample photos not fetched (or a sanitizer build)";
  auto interp = Interpreter::load(f->model);
  quant::QuantizeOptions options;
  options.granularity = quant::Granularity::kPerTensor;
  options.image_input = f->spec.input.normalization;
  options.output_bounds = f->spec.head->output_bounds();
  const quant::SampleSource calibration(f->photos, 16, true, recipe_of(f->spec));
  const quant::SampleSource eval(f->photos, 3, false, recipe_of(f->spec));
  quant::CompareOptions co;
  co.spec = f->spec;
  const quant::CalibratedModel plain = quant::calibrate_model(interp->graph(), calibration, options, true);
  options.equalize = true;
  const quant::CalibratedModel equalized =
      quant::calibrate_model(interp->graph(), calibration, options, true);
  EXPECT_TRUE(equalized.equalized);
  const quant::MethodChoice choice =
      quant::quantize_best_method(interp->graph(), {&plain, &equalized}, calibration, eval, options, co);
  ASSERT_EQ(choice.trials.size(), 6u);
  EXPECT_FALSE(choice.trials[0].equalized);
  EXPECT_TRUE(choice.trials[5].equalized);
  for (const quant::MethodTrial& t : choice.trials) {
    EXPECT_FALSE(quant::more_accurate(t.accuracy, choice.chosen.accuracy))
        << quant::calibration_method_name(t.method) << (t.equalized ? ", equalized" : "");
  }
  options.method = choice.chosen.method;
  options.equalize = choice.chosen.equalized;
  EXPECT_EQ(choice.run.model, quant::quantize_model(interp->graph(), calibration, options).model);
}

INSTANTIATE_TEST_SUITE_P(Zoo, QuantFaceDetection,
                         ::testing::Values("face_detection_short_range", "face_detection_full_range"));

TEST(QuantZooModels, SegmenterQuantizesWithTheCustomOpRewritten) {
  const auto f = fixture("selfie_segmentation");
  if (!f) GTEST_SKIP() << "zoo model or sample photos not fetched (or a sanitizer build)";
  std::vector<uint8_t> bytes;
  const quant::ComparisonReport r = quantize_and_compare(*f, quant::Granularity::kPerChannel, &bytes);
  ASSERT_TRUE(r.mask_iou.has_value());
  EXPECT_GT(*r.mask_iou, 0.5);
  auto model = Interpreter::from_buffer(bytes, "selfie");
  bool transpose_conv = false;
  for (const Op& op : model->graph().ops) {
    EXPECT_NE(op.code, static_cast<int32_t>(OpCode::kCustom));
    transpose_conv = transpose_conv || op.code == static_cast<int32_t>(OpCode::kTransposeConv);
  }
  EXPECT_TRUE(transpose_conv);
  EXPECT_TRUE(quant::check_target(model->graph(), quant::Target::kArtpec9).full_integer);
}

}  // namespace
}  // namespace osprey
