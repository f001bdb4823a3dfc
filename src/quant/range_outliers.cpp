#include "quant/range_outliers.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

namespace osprey::quant {
namespace {

// Ranges always include 0, as quantization does.
double span(const std::pair<float, float>& r) {
  return static_cast<double>(std::max(r.second, 0.0f)) - static_cast<double>(std::min(r.first, 0.0f));
}

std::pair<float, float> unite(const std::pair<float, float>& a, const std::pair<float, float>& b) {
  return {std::min(a.first, b.first), std::max(a.second, b.second)};
}

}  // namespace

std::vector<RangeOutlier> find_range_outliers(const Graph& graph, const Calibrator& calibrator,
                                              std::span<const float> limits, double factor,
                                              double min_fraction) {
  std::map<int, RangeOutlier> by_file;
  int compared = 0;
  for (size_t t = 0; t < graph.tensors.size(); ++t) {
    const Tensor& x = graph.tensors[t];
    if (x.is_constant || x.type != DType::kFloat32) continue;
    const float limit = t < limits.size() ? limits[t] : 0.0f;
    std::vector<std::pair<int, std::pair<float, float>>> ranges;
    for (int f = 0; f < calibrator.files(); ++f) {
      auto r = calibrator.file_range(static_cast<int>(t), f);
      if (!r) continue;
      if (limit > 0) *r = {std::clamp(r->first, -limit, limit), std::clamp(r->second, -limit, limit)};
      ranges.push_back({f, *r});
    }
    if (ranges.size() < 3) continue;
    ++compared;
    std::vector<double> spans;
    for (const auto& [f, r] : ranges) spans.push_back(span(r));
    std::nth_element(spans.begin(), spans.begin() + static_cast<ptrdiff_t>(spans.size() / 2), spans.end());
    const double median = spans[spans.size() / 2];
    std::pair<float, float> others = {0.0f, 0.0f};
    std::vector<std::pair<int, std::pair<float, float>>> outlying;
    for (const auto& [f, r] : ranges) {
      if (span(r) > factor * median) {
        outlying.push_back({f, r});
      } else {
        others = unite(others, r);
      }
    }
    if (outlying.empty() || span(others) <= 0) continue;
    for (const auto& [f, own] : outlying) {
      // What this file alone adds to the others' range.
      const double widened = span(unite(others, own)) / span(others);
      if (widened < factor) continue;
      RangeOutlier& o = by_file[f];
      o.file = f;
      ++o.tensors;
      if (widened > o.factor) {
        o.factor = widened;
        o.tensor = x.name;
        o.range = own;
        o.others = others;
      }
    }
  }
  std::vector<RangeOutlier> result;
  for (auto& [f, o] : by_file) {
    o.compared = compared;
    if (o.tensors >= std::max(1.0, min_fraction * compared)) result.push_back(o);
  }
  std::stable_sort(result.begin(), result.end(),
                   [](const RangeOutlier& a, const RangeOutlier& b) { return a.tensors > b.tensors; });
  return result;
}

std::string summarize_outlier(const RangeOutlier& o, const SampleSource& source, double factor) {
  return fmt::format(
      "{} widens {} of {} tensors' ranges {:g}x or more past what the other files need (most: '{}' to "
      "[{:.4g}, {:.4g}] from [{:.4g}, {:.4g}])",
      std::filesystem::path(source.file(o.file)).filename().string(), o.tensors, o.compared, factor, o.tensor,
      o.range.first, o.range.second, o.others.first, o.others.second);
}

std::string describe_outlier(const RangeOutlier& o, const SampleSource& source, double factor) {
  return "calibration file " + summarize_outlier(o, source, factor) +
         ", which costs them precision on the other files: leave it out unless the model will see such input";
}

}  // namespace osprey::quant
