// The whole post-training quantization of a loaded float model: prepare the
// float graph, calibrate it on samples, quantize, write the .tflite bytes.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "model/writer.h"
#include "quant/calibration.h"
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

// `folded` is an Interpreter's graph of the float model. `progress(done,
// total)` is called after each calibration sample.
QuantizationRun quantize_model(const Graph& folded, const SampleSource& calibration,
                               const QuantizeOptions& options, const WriterOptions& writer = {},
                               const std::function<void(int, int)>& progress = {});

}  // namespace osprey::quant
