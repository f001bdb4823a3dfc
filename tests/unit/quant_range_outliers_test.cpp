// Calibration files unlike the others (quant/range_outliers.h) on a small
// convolution: a file whose inputs are 30 times larger than the other files'
// is named, ordinary spread is not, and clipped tensors count within the clip.
#include <gtest/gtest.h>

#include <random>

#include "quant/calibration.h"
#include "quant/graph_runner.h"
#include "quant/range_outliers.h"
#include "runtime/interpreter.h"
#include "support/model_builder.h"

namespace osprey {
namespace {

struct CalibratedByFile {
  std::unique_ptr<Interpreter> model;  // owns the graph
  std::unique_ptr<quant::Calibrator> calibrator;
};

// Two samples per file; file f's inputs are uniform in +-magnitudes[f].
CalibratedByFile calibrate_by_file(const std::vector<float>& magnitudes) {
  CalibratedByFile c;
  c.model = Interpreter::from_buffer(testing::build_model(testing::tiny_conv_model()), "tiny");
  c.calibrator = std::make_unique<quant::Calibrator>(c.model->graph(), false);
  quant::GraphRunner runner(quant::copy_graph(c.model->graph()));
  std::mt19937 rng(3);
  for (int round = 0; round < 2; ++round) {
    for (size_t f = 0; f < magnitudes.size(); ++f) {
      std::uniform_real_distribution<float> u(-magnitudes[f], magnitudes[f]);
      Tensor& in = runner.input(0);
      for (int64_t i = 0; i < in.num_elements(); ++i) in.data_as<float>()[i] = u(rng);
      runner.run();
      c.calibrator->record(runner, static_cast<int>(f));
    }
  }
  return c;
}

int conv_input(const CalibratedByFile& c) {
  return c.model->graph().inputs[0];
}

TEST(QuantRangeOutliers, AFileFarPastTheOthersIsNamed) {
  const CalibratedByFile c = calibrate_by_file({1.0f, 1.2f, 0.9f, 1.1f, 30.0f});
  ASSERT_EQ(c.calibrator->files(), 5);
  const auto outliers = quant::find_range_outliers(c.model->graph(), *c.calibrator);
  ASSERT_EQ(outliers.size(), 1u);
  const quant::RangeOutlier& o = outliers[0];
  EXPECT_EQ(o.file, 4);
  EXPECT_EQ(o.compared, 3);  // input, convolution, output
  EXPECT_EQ(o.tensors, 3);
  EXPECT_GT(o.factor, 15.0);
  // Its own range, against the other files' (which always include 0).
  EXPECT_LT(o.range.first, -20.0f);
  EXPECT_GT(o.range.second, 20.0f);
  EXPECT_GT(o.others.second, 0.0f);
  EXPECT_LT(o.others.second, 1.2f);

  const quant::SampleSource source({"a.npy", "b.npy", "c.npy", "d.npy", "dir/e.npy"}, 5, false, std::nullopt);
  const std::string line = quant::describe_outlier(o, source);
  EXPECT_NE(line.find("calibration file e.npy widens 3 of 3 tensors' ranges 4x or more"), std::string::npos)
      << line;
  EXPECT_NE(line.find("'" + o.tensor + "'"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(QuantRangeOutliers, OrdinarySpreadAndFewFilesAreNot) {
  const CalibratedByFile spread = calibrate_by_file({1.0f, 2.0f, 3.0f, 0.8f, 3.5f});
  EXPECT_TRUE(quant::find_range_outliers(spread.model->graph(), *spread.calibrator).empty());
  // With two files neither is the odd one out.
  const CalibratedByFile two = calibrate_by_file({1.0f, 30.0f});
  EXPECT_TRUE(quant::find_range_outliers(two.model->graph(), *two.calibrator).empty());
  // A stricter factor finds the widest of the spread files.
  const auto strict = quant::find_range_outliers(spread.model->graph(), *spread.calibrator, {}, 1.5, 0.0);
  EXPECT_FALSE(strict.empty());
}

TEST(QuantRangeOutliers, AClippedTensorCountsWithinItsClip) {
  const CalibratedByFile c = calibrate_by_file({1.0f, 1.2f, 0.9f, 1.1f, 30.0f});
  std::vector<float> limits(c.model->graph().tensors.size(), 0.0f);
  limits[static_cast<size_t>(conv_input(c))] = 1.5f;  // past 1.5 the quantizer clipped it
  const auto outliers = quant::find_range_outliers(c.model->graph(), *c.calibrator, limits);
  ASSERT_EQ(outliers.size(), 1u);
  EXPECT_EQ(outliers[0].tensors, 2);
  EXPECT_NE(outliers[0].tensor, c.model->graph().tensors[static_cast<size_t>(conv_input(c))].name);
}

}  // namespace
}  // namespace osprey
