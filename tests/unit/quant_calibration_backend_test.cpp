// Calibration and the per-layer accuracy report on the fast path: running
// the models on the default backend stack (XNNPACK runtimes that keep their
// intermediates to themselves) must see every tensor the reference kernels
// see, with the same statistics within float rounding (skipped when the zoo model or the sample
// photos have not been fetched, and in sanitizer builds, where it is slow).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "backends/backend.h"
#include "quant/calibration.h"
#include "quant/metrics.h"
#include "quant/pipeline.h"
#include "quant/quantizer.h"
#include "runtime/interpreter.h"
#include "support/sanitizer.h"
#include "vision/model_metadata.h"

namespace osprey {
namespace {

using test::kSanitized;

class CalibrationOnBackends : public ::testing::TestWithParam<std::string> {};

TEST_P(CalibrationOnBackends, SeesEveryTensorWithTheReferenceStatistics) {
  const std::string name = GetParam();
  const std::string model = vision::cache_dir() + "/models/" + name + ".tflite";
  std::vector<std::string> photos;
  for (const char* p : {"astronaut.png", "coffee.png", "messi5.jpg"})
    photos.push_back(vision::cache_dir() + "/media/" + p);
  bool present = std::filesystem::exists(model);
  for (const std::string& p : photos) present = present && std::filesystem::exists(p);
  if (kSanitized || !present) GTEST_SKIP() << "zoo model or sample photos not fetched (or a sanitizer build)";

  const vision::ModelSpec spec = vision::load_model_spec(vision::zoo_manifest_path(), name);
  const quant::SampleSource source(
      photos, 6, true,
      quant::InputRecipe{spec.input.width, spec.input.height, spec.input.normalization, spec.input.resize});
  auto interp = Interpreter::load(model);
  const quant::PreparedGraph prepared = quant::prepare_float_graph(interp->graph());
  const Graph& g = prepared.graph;

  quant::Calibrator ref(g, true), fast(g, true);
  {
    quant::GraphRunner runner(quant::copy_graph(g));
    quant::calibrate(runner, source, ref);
  }
  {
    quant::StackGraphRunner runner(g, kDefaultBackend, 1);
    quant::calibrate(runner, source, fast);
  }
  int compared = 0;
  double worst = 0;  // largest difference relative to the tensor's range, for the log
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const quant::TensorStats& r = ref.stats()[t];
    const quant::TensorStats& f = fast.stats()[t];
    const std::string& tensor = g.tensors[t].name;
    ASSERT_EQ(r.seen, f.seen) << "tensor " << t << " '" << tensor << "'";
    if (!r.seen) continue;
    ++compared;
    // Summation order differs between kernels: allow rounding relative to the range.
    const float tol = 1e-4f * std::max({std::abs(r.min), std::abs(r.max), 1e-3f});
    const float span = std::max({std::abs(r.min), std::abs(r.max), 1e-3f});
    worst = std::max({worst, static_cast<double>(std::abs(r.min - f.min) / span),
                      static_cast<double>(std::abs(r.max - f.max) / span)});
    EXPECT_NEAR(r.min, f.min, tol) << "tensor " << t << " '" << tensor << "'";
    EXPECT_NEAR(r.max, f.max, tol) << "tensor " << t << " '" << tensor << "'";
    EXPECT_EQ(r.histogram.count(), f.histogram.count()) << "tensor " << t << " '" << tensor << "'";
    const auto [rlo, rhi] = ref.range(static_cast<int>(t), quant::CalibrationMethod::kPercentile, 99.9);
    const auto [flo, fhi] = fast.range(static_cast<int>(t), quant::CalibrationMethod::kPercentile, 99.9);
    // A value at a bin edge may land in the neighbouring bin.
    const double bin = std::max(r.histogram.bin_width(), f.histogram.bin_width());
    EXPECT_NEAR(rlo, flo, 2 * bin + tol) << "tensor " << t << " '" << tensor << "'";
    EXPECT_NEAR(rhi, fhi, 2 * bin + tol) << "tensor " << t << " '" << tensor << "'";
  }
  std::printf("%s: %d tensors, largest min/max difference %.3g of the range\n", name.c_str(), compared,
              worst);
  // Every op's float result is an activation calibration needs.
  EXPECT_GE(compared, static_cast<int>(g.ops.size()) / 2);
}

// The per-layer accuracy report keeps every tensor the same way, the integer
// ones too: the same tensors, and the same figures within float rounding.
TEST(PerLayerOnBackends, MatchesTheReferenceKernels) {
  const std::string name = "face_detection_short_range";
  const std::string model = vision::cache_dir() + "/models/" + name + ".tflite";
  std::vector<std::string> photos;
  for (const char* p : {"astronaut.png", "coffee.png", "messi5.jpg"})
    photos.push_back(vision::cache_dir() + "/media/" + p);
  bool present = std::filesystem::exists(model);
  for (const std::string& p : photos) present = present && std::filesystem::exists(p);
  if (kSanitized || !present) GTEST_SKIP() << "zoo model or sample photos not fetched (or a sanitizer build)";

  const vision::ModelSpec spec = vision::load_model_spec(vision::zoo_manifest_path(), name);
  const quant::InputRecipe recipe{spec.input.width, spec.input.height, spec.input.normalization,
                                  spec.input.resize};
  auto interp = Interpreter::load(model);
  quant::QuantizeOptions options;
  options.image_input = spec.input.normalization;
  const quant::QuantizationRun run =
      quant::quantize_model(interp->graph(), quant::SampleSource(photos, 6, true, recipe), options);
  auto quantized = Interpreter::from_buffer(run.model, "quantized");
  const quant::SampleSource source(photos, 2, false, recipe);
  quant::CompareOptions co;
  co.per_layer = true;
  co.spec = spec;
  co.threads = 1;
  co.backend = "ref";
  const quant::ComparisonReport ref = quant::compare_graphs(interp->graph(), quantized->graph(), source, co);
  co.backend = kDefaultBackend;
  const quant::ComparisonReport fast = quant::compare_graphs(interp->graph(), quantized->graph(), source, co);
  ASSERT_GT(ref.layers.size(), 20u);
  ASSERT_EQ(ref.layers.size(), fast.layers.size());
  for (size_t i = 0; i < ref.layers.size(); ++i) {
    EXPECT_EQ(ref.layers[i].tensor, fast.layers[i].tensor);
    EXPECT_NEAR(ref.layers[i].metrics.cosine, fast.layers[i].metrics.cosine, 1e-4) << ref.layers[i].tensor;
  }
  ASSERT_EQ(ref.outputs.size(), fast.outputs.size());
  for (size_t i = 0; i < ref.outputs.size(); ++i) {
    EXPECT_NEAR(ref.outputs[i].metrics.cosine, fast.outputs[i].metrics.cosine, 1e-4) << ref.outputs[i].name;
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, CalibrationOnBackends,
                         ::testing::Values("face_detection_short_range", "selfie_segmentation"));

}  // namespace
}  // namespace osprey
