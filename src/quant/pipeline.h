// The whole post-training quantization of a loaded float model: prepare the
// float graph, calibrate it on samples, quantize, write the .tflite bytes;
// or quantize with every calibration method and keep the most accurate.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "model/writer.h"
#include "quant/calibration.h"
#include "quant/metrics.h"
#include "quant/quantizer.h"
#include "quant/range_outliers.h"

namespace osprey::quant {

struct QuantizationRun {
  std::vector<uint8_t> model;      // the quantized .tflite
  QuantizedGraph quantized;        // its graph, notes and float ops
  std::vector<std::string> notes;  // rewrites of the float graph, then quantization decisions
  // Calibration files that widen many tensors' ranges (range_outliers.h),
  // and a warning for each.
  std::vector<RangeOutlier> outliers;
  std::vector<std::string> warnings;
};

// Steps 1 and 2: the prepared float graph (equalized when options.equalize)
// and its statistics (histograms when `histograms`: the percentile and
// entropy methods need them).
struct CalibratedModel {
  PreparedGraph prepared;
  Calibrator calibrator;
  bool equalized = false;
};
CalibratedModel calibrate_model(const Graph& folded, const SampleSource& calibration,
                                const QuantizeOptions& options, bool histograms,
                                const std::function<void(int, int)>& progress = {});

// The calibration files unlike the others (range_outliers.h), judged inside
// the clips quantize_graph applies with `options` (its method is ignored).
std::vector<RangeOutlier> calibration_outliers(const CalibratedModel& model, const QuantizeOptions& options);

// Step 3 with `options.method`, and the file.
QuantizationRun quantize_calibrated(const CalibratedModel& model, const SampleSource& calibration,
                                    const QuantizeOptions& options, const WriterOptions& writer = {});

// All three steps. `folded` is an Interpreter's graph of the float model.
// `progress(done, total)` is called after each calibration sample.
QuantizationRun quantize_model(const Graph& folded, const SampleSource& calibration,
                               const QuantizeOptions& options, const WriterOptions& writer = {},
                               const std::function<void(int, int)>& progress = {});

// `--method auto`: each calibrated model (plain, equalized) quantized with
// each calibration method and compared with the float model on `eval`; the
// most accurate (more_accurate) is kept.
struct MethodTrial {
  CalibrationMethod method = CalibrationMethod::kMinMax;
  bool equalized = false;
  ComparisonReport accuracy;
};
struct MethodChoice {
  QuantizationRun run;  // of the chosen trial
  MethodTrial chosen;
  std::vector<MethodTrial> trials;
};
// `models` must be calibrated with histograms; options.method and
// options.equalize are ignored.
MethodChoice quantize_best_method(const Graph& folded, const std::vector<const CalibratedModel*>& models,
                                  const SampleSource& calibration, const SampleSource& eval,
                                  QuantizeOptions options, const CompareOptions& compare,
                                  const WriterOptions& writer = {});

}  // namespace osprey::quant
