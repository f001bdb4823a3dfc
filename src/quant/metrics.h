// Accuracy of a quantized model against its float original: per output (and
// optionally per tensor, matched by name) SNR, cosine similarity and the
// largest absolute error after dequantization; for detectors the fraction of
// float detections found again, for segmenters the IoU of the masks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "graph/graph.h"
#include "quant/calibration.h"
#include "vision/detection.h"
#include "vision/model_metadata.h"

namespace osprey::quant {

struct ErrorMetrics {
  double snr_db = 0;         // 10 log10(sum ref^2 / sum (ref - test)^2); +inf when equal
  double cosine = 1;         // cosine similarity of the flattened tensors
  double max_abs_error = 0;  // largest |ref - test|
  double mean_abs_error = 0;
  double ref_abs_max = 0;  // largest |ref|, to put the errors in proportion
  int64_t count = 0;
};

class ErrorAccumulator {
 public:
  void add(const float* ref, const float* test, int64_t n);
  ErrorMetrics result() const;

 private:
  double ref2_ = 0, test2_ = 0, err2_ = 0, dot_ = 0, abs_sum_ = 0, max_ = 0, ref_max_ = 0;
  int64_t count_ = 0;
};

// Greedy one-to-one matching of same-class boxes at IoU >= threshold.
struct DetectionMatch {
  int reference = 0;    // float detections
  int found = 0;        // of those, matched by a quantized detection
  int test = 0;         // quantized detections
  double mean_iou = 0;  // over the matched pairs
};
DetectionMatch match_detections(const std::vector<vision::Detection>& reference,
                                const std::vector<vision::Detection>& test, float iou_threshold = 0.5f);

struct OutputReport {
  std::string name;
  ErrorMetrics metrics;
  float within = 0;  // > 0: compared within +-within, where the task head clamps the output
};

struct LayerReport {
  int op_index = 0;  // in the quantized graph
  std::string op;
  std::string tensor;
  ErrorMetrics metrics;
};

struct ComparisonReport {
  int samples = 0;
  std::vector<OutputReport> outputs;
  std::optional<DetectionMatch> detections;  // summed over samples
  std::optional<double> mask_iou;            // mean over samples (threshold from the spec)
  std::vector<LayerReport> layers;           // with per_layer, in op order
};

struct CompareOptions {
  bool per_layer = false;
  // Enables detection / mask metrics, and compares the outputs its head
  // clamps (a detector's scores) as the head reads them.
  std::optional<vision::ModelSpec> spec;
  // The backend stack (backends/backend.h) that runs both models; per-layer
  // comparisons keep every tensor out of the backends' runs
  // (quant/stack_graph_runner.h). "ref": the reference kernels, the oracle.
  std::string backend = kDefaultBackend;
  int threads = 0;  // 0: one per core
};

// Runs both graphs on every sample of `source` through options.backend. `reference` and `test` are
// Interpreter graphs (folded, weights not released); their inputs and
// outputs must correspond by position.
ComparisonReport compare_graphs(const Graph& reference, const Graph& test, const SampleSource& source,
                                const CompareOptions& options,
                                const std::function<void(int, int)>& progress = {});

// True when `a` is the more accurate of two reports on the same model and
// samples: the task's measure first (more float detections found, then fewer
// other quantized detections; or a higher mask IoU), then a higher mean
// output SNR, then a higher mean IoU of the detections.
bool more_accurate(const ComparisonReport& a, const ComparisonReport& b);

// One line: "SNR 16.4, 11.4 dB; 1 of 1 detections found (IoU 0.964), 1 quantized".
std::string summarize_accuracy(const ComparisonReport& report);

// Human-readable table; `worst` layers listed first when per-layer.
std::string format_report(const ComparisonReport& report, int worst_layers = 10);

}  // namespace osprey::quant
