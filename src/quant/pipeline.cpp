#include "quant/pipeline.h"

namespace osprey::quant {

QuantizationRun quantize_model(const Graph& folded, const SampleSource& calibration,
                               const QuantizeOptions& options, const WriterOptions& writer,
                               const std::function<void(int, int)>& progress) {
  PreparedGraph prepared = prepare_float_graph(folded);
  Calibrator calibrator(prepared.graph, options.method != CalibrationMethod::kMinMax);
  if (options.backend == "ref") {
    GraphRunner runner(copy_graph(prepared.graph));
    calibrate(runner, calibration, calibrator, progress);
  } else {
    StackGraphRunner runner(prepared.graph, options.backend, options.threads);
    calibrate(runner, calibration, calibrator, progress);
  }
  QuantizationRun run;
  run.quantized = quantize_graph(prepared.graph, calibrator, options);
  run.outliers = find_range_outliers(prepared.graph, calibrator, run.quantized.range_limits);
  for (const RangeOutlier& o : run.outliers) run.warnings.push_back(describe_outlier(o, calibration));
  run.notes = prepared.notes;
  run.notes.insert(run.notes.end(), run.quantized.notes.begin(), run.quantized.notes.end());
  run.model = write_tflite(run.quantized.graph, writer);
  return run;
}

}  // namespace osprey::quant
