// Calibration: run the float model on representative inputs and record the
// range (and a histogram) of every float activation tensor.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "quant/graph_runner.h"
#include "quant/stack_graph_runner.h"
#include "vision/image.h"
#include "vision/preprocess.h"

namespace osprey::quant {

// The smallest and largest finite values of v[0..n), or nothing when none is
// finite (NaN and infinities are skipped).
std::optional<std::pair<float, float>> finite_range(const float* v, int64_t n);

// A histogram over a range symmetric around 0 that doubles its range (merging
// bin pairs) whenever a value falls outside, so one pass suffices.
class Histogram {
 public:
  static constexpr int kBins = 4096;
  void add(const float* values, int64_t n);
  bool empty() const { return count_ == 0; }
  int64_t count() const { return count_; }
  // Value below which `fraction` of the samples lie (linear inside a bin).
  double quantile(double fraction) const;
  double bin_width() const { return width_; }
  const std::vector<int64_t>& bins() const { return bins_; }
  double lower() const { return -width_ * kBins / 2; }  // left edge of bin 0

 private:
  void grow_to(double magnitude);
  std::vector<int64_t> bins_ = std::vector<int64_t>(kBins, 0);
  double width_ = 0;  // 0 until the first non-zero value
  int64_t count_ = 0;
  int64_t zeros_before_range_ = 0;  // zeros seen while width_ was 0
};

struct TensorStats {
  float min = 0;
  float max = 0;
  bool seen = false;
  Histogram histogram;
};

enum class CalibrationMethod { kMinMax, kPercentile, kEntropy };
CalibrationMethod parse_calibration_method(const std::string& name);
const char* calibration_method_name(CalibrationMethod m);

// Per-tensor statistics of a float graph over many runs.
class Calibrator {
 public:
  Calibrator(const Graph& graph, bool histograms);
  // Records every float, non-constant tensor of the runner's graph, for the
  // calibration file the sample came from (SampleSource::file_of).
  void record(const GraphRunner& runner, int file = 0);
  void record(const StackGraphRunner& runner, int file = 0);
  const std::vector<TensorStats>& stats() const { return stats_; }
  int samples() const { return samples_; }
  // Files recorded (the highest file index + 1), and the range tensor t took
  // on the samples of `file`, if any was finite.
  int files() const { return files_; }
  std::optional<std::pair<float, float>> file_range(int t, int file) const;
  // The range quantization should cover for tensor t: [lo, hi] (lo <= 0 <= hi).
  std::pair<float, float> range(int t, CalibrationMethod method, double percentile) const;

 private:
  void start_sample(int file);
  void record_tensor(size_t t, const Tensor& x);
  std::vector<TensorStats> stats_;
  bool histograms_ = false;
  int samples_ = 0;
  int files_ = 0;
  int file_ = 0;  // of the sample being recorded
  // [file * tensors + t]: min and max (min > max: nothing finite yet).
  std::vector<std::pair<float, float>> file_ranges_;
};

// Where calibration inputs come from: image files (decoded, augmented,
// fitted and normalised like the detect/segment path) or .npy arrays (one
// file per sample for single-input models).
struct InputRecipe {
  int width = 0;
  int height = 0;
  vision::Normalization normalization;
  vision::ResizeMode resize = vision::ResizeMode::kStretch;
};

// Image and .npy files under the given paths (directories are listed, sorted).
std::vector<std::string> collect_sample_files(const std::vector<std::string>& paths);

// A deterministic variant of `image` for sample number `variant` (0 = the
// image itself): horizontal flips, crops of 60-100% of the area, downscales
// and brightness/contrast changes, seeded by the variant number.
vision::Image augment_image(const vision::Image& image, int variant);

class SampleSource {
 public:
  // `files` from collect_sample_files; `samples` wanted (images are augmented
  // to reach it when there are fewer files, unless `augment` is false).
  SampleSource(std::vector<std::string> files, int samples, bool augment, std::optional<InputRecipe> recipe);
  int size() const { return count_; }
  // Fills the (float32, uint8 or int8) input tensor of sample i.
  void fill(int i, Tensor& input) const;
  std::string describe() const;
  int unique_files() const { return static_cast<int>(files_.size()); }
  // The file sample i comes from (an index into file()), and its path.
  int file_of(int i) const { return i % unique_files(); }
  const std::string& file(int index) const { return files_[static_cast<size_t>(index)]; }
  // True when sample i comes from an image (false: an .npy file).
  bool image_sample(int i) const;

 private:
  std::vector<std::string> files_;
  int count_ = 0;
  bool augment_ = true;
  std::optional<InputRecipe> recipe_;
  mutable std::vector<vision::Image> decoded_;  // cache, by file index
};

// Runs the calibration: every sample through `runner`, stats into `calibrator`.
// `progress(done, total)` is called after each sample. The reference kernels
// (GraphRunner) are the oracle; a backend stack (StackGraphRunner) gives the
// same statistics within float rounding, much faster.
void calibrate(GraphRunner& runner, const SampleSource& source, Calibrator& calibrator,
               const std::function<void(int, int)>& progress = {});
void calibrate(StackGraphRunner& runner, const SampleSource& source, Calibrator& calibrator,
               const std::function<void(int, int)>& progress = {});

// A stderr progress bar that only draws on a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  void update(int done, int total);

 private:
  std::string label_;
  bool tty_ = false;
  bool drawn_ = false;
};

}  // namespace osprey::quant
