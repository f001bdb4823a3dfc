#include "quant/pipeline.h"

#include "runtime/interpreter.h"

namespace osprey::quant {

CalibratedModel calibrate_model(const Graph& folded, const SampleSource& calibration,
                                const QuantizeOptions& options, bool histograms,
                                const std::function<void(int, int)>& progress) {
  PreparedGraph prepared = prepare_float_graph(folded, options.equalize);
  Calibrator calibrator(prepared.graph, histograms);
  if (options.backend == "ref") {
    GraphRunner runner(copy_graph(prepared.graph));
    calibrate(runner, calibration, calibrator, progress);
  } else {
    StackGraphRunner runner(prepared.graph, options.backend, options.threads);
    calibrate(runner, calibration, calibrator, progress);
  }
  return {std::move(prepared), std::move(calibrator), options.equalize};
}

std::vector<RangeOutlier> calibration_outliers(const CalibratedModel& model, const QuantizeOptions& options) {
  QuantizeOptions minmax = options;
  minmax.method = CalibrationMethod::kMinMax;  // the clips do not depend on it; minmax needs no histograms
  const QuantizedGraph q = quantize_graph(model.prepared.graph, model.calibrator, minmax);
  return find_range_outliers(model.prepared.graph, model.calibrator, q.range_limits);
}

QuantizationRun quantize_calibrated(const CalibratedModel& model, const SampleSource& calibration,
                                    const QuantizeOptions& options, const WriterOptions& writer) {
  QuantizationRun run;
  run.quantized = quantize_graph(model.prepared.graph, model.calibrator, options);
  run.outliers = find_range_outliers(model.prepared.graph, model.calibrator, run.quantized.range_limits);
  for (const RangeOutlier& o : run.outliers) run.warnings.push_back(describe_outlier(o, calibration));
  run.notes = model.prepared.notes;
  run.notes.insert(run.notes.end(), run.quantized.notes.begin(), run.quantized.notes.end());
  run.model = write_tflite(run.quantized.graph, writer);
  return run;
}

QuantizationRun quantize_model(const Graph& folded, const SampleSource& calibration,
                               const QuantizeOptions& options, const WriterOptions& writer,
                               const std::function<void(int, int)>& progress) {
  const CalibratedModel model =
      calibrate_model(folded, calibration, options, options.method != CalibrationMethod::kMinMax, progress);
  return quantize_calibrated(model, calibration, options, writer);
}

MethodChoice quantize_best_method(const Graph& folded, const std::vector<const CalibratedModel*>& models,
                                  const SampleSource& calibration, const SampleSource& eval,
                                  QuantizeOptions options, const CompareOptions& compare,
                                  const WriterOptions& writer) {
  MethodChoice best;
  for (const CalibratedModel* model : models) {
    options.equalize = model->equalized;
    for (const CalibrationMethod method :
         {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile, CalibrationMethod::kEntropy}) {
      options.method = method;
      QuantizationRun run = quantize_calibrated(*model, calibration, options, writer);
      const auto quantized = Interpreter::from_buffer(run.model, calibration_method_name(method));
      MethodTrial trial{method, model->equalized, compare_graphs(folded, quantized->graph(), eval, compare)};
      best.trials.push_back(trial);
      if (best.trials.size() == 1 || more_accurate(trial.accuracy, best.chosen.accuracy)) {
        best.run = std::move(run);
        best.chosen = std::move(trial);
      }
    }
  }
  return best;
}

}  // namespace osprey::quant
