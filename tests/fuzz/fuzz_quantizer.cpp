// libFuzzer target: any bytes that load as a small single-input float model
// go through `osprey quantize`'s library path: prepare (plain and
// equalized), calibrate on seeded random inputs, look for outlying samples,
// quantize (per-tensor and per-channel, each calibration method, float ops
// allowed), write the .tflite, load it back and run it. A model the user may
// feed the quantizer must give an osprey::Error or a model, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "model/writer.h"
#include "model_fuzzing.h"
#include "quant/calibration.h"
#include "quant/graph_runner.h"
#include "quant/quantizer.h"
#include "quant/range_outliers.h"
#include "runtime/interpreter.h"

namespace {

osprey::InterpreterOptions fuzz_options() {
  return osprey::fuzzing::untrusted(size_t{1} << 26);
}

// Small enough to calibrate and run in a fuzzing iteration.
bool small(const osprey::Interpreter& interp) {
  return interp.arena_bytes() < (size_t{4} << 20) && interp.total_macs() <= 2'000'000;
}

void fill_random(osprey::Tensor& t, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  float* v = t.data_as<float>();
  for (int64_t i = 0; i < t.num_elements(); ++i) v[i] = u(rng);
}

void quantize_and_run(const osprey::Graph& folded, bool equalize) {
  using namespace osprey::quant;
  const PreparedGraph prepared = prepare_float_graph(folded, equalize);
  Calibrator calibrator(prepared.graph, true);
  GraphRunner runner(copy_graph(prepared.graph));
  std::mt19937 rng(7);
  for (int file = 0; file < 3; ++file) {
    fill_random(runner.input(0), rng);
    runner.run();
    calibrator.record(runner, file);
  }
  QuantizeOptions options;
  options.allow_float_ops = true;
  for (const Granularity g : {Granularity::kPerTensor, Granularity::kPerChannel}) {
    for (const CalibrationMethod m :
         {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile, CalibrationMethod::kEntropy}) {
      options.granularity = g;
      options.method = m;
      options.io = g == Granularity::kPerTensor ? IoType::kUInt8 : IoType::kInt8;
      const QuantizedGraph q = quantize_graph(prepared.graph, calibrator, options);
      find_range_outliers(prepared.graph, calibrator, q.range_limits);
      auto quantized =
          osprey::Interpreter::from_buffer(osprey::write_tflite(q.graph), "quantized", fuzz_options());
      quantized->invoke();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto interp =
        osprey::Interpreter::from_buffer(std::vector<uint8_t>(data, data + size), "fuzz", fuzz_options());
    if (interp->num_inputs() != 1 || interp->input(0).type != osprey::DType::kFloat32 || !small(*interp))
      return 0;
    for (const bool equalize : {false, true}) quantize_and_run(interp->graph(), equalize);
  } catch (const osprey::KernelOverrun& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::abort();
  } catch (const osprey::Error&) {
  }
  return 0;
}
