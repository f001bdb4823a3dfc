// Calibration files unlike the others: a file whose samples set some tensors'
// ranges far past what the other files need (a page of text among street
// scenes). Every tensor it widens by a factor k loses log2(k) bits of
// precision on what the camera will see, so `osprey quantize` names it.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "quant/calibration.h"

namespace osprey::quant {

struct RangeOutlier {
  int file = 0;                    // SampleSource file index
  int tensors = 0;                 // tensors whose range it widens by >= the factor
  int compared = 0;                // tensors compared
  std::string tensor;              // the one it widens most,
  double factor = 0;               // by this factor:
  std::pair<float, float> range;   // its range on this file's samples
  std::pair<float, float> others;  // and on the files not outlying there
};

// Per tensor (non-constant float, seen on at least 3 files), the files whose
// own range spans more than `factor` times the median file's are outlying;
// each widens the tensor when the range over all files spans `factor` times
// the range over the others. Files that widen at least `min_fraction` of the
// tensors are returned, most tensors first. Ranges are first clipped to
// +-limits[t] where that is > 0 (QuantizedGraph::range_limits): widening
// past a clip costs nothing.
std::vector<RangeOutlier> find_range_outliers(const Graph& graph, const Calibrator& calibrator,
                                              std::span<const float> limits = {}, double factor = 4.0,
                                              double min_fraction = 0.05);

// "page.png widens 10 of 74 tensors' ranges 4x or more past what the other
// files need (most: ...)".
std::string summarize_outlier(const RangeOutlier& outlier, const SampleSource& source, double factor = 4.0);

// The warning: "calibration file " + the summary + what it costs.
std::string describe_outlier(const RangeOutlier& outlier, const SampleSource& source, double factor = 4.0);

}  // namespace osprey::quant
