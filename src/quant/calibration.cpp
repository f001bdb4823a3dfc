#include "quant/calibration.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <tuple>

#include "core/enum_names.h"
#include "core/error.h"
#include "io/npy.h"
#include "vision/image_io.h"

namespace osprey::quant {

// ---------------------------------------------------------------- finite_range

namespace {

// Four floats as GCC and Clang vectorize them on any target.
using Floats = float __attribute__((vector_size(16)));

// One pass over v with 4 independent pairs of vector bounds. `x < lo ? x :
// lo` keeps lo when x is NaN (a min instruction); infinities are kept unless
// kSkipInfinities, which masks them out at twice the cost.
template <bool kSkipInfinities>
std::pair<float, float> range_pass(const float* v, int64_t n) {
  constexpr int kWidth = 4, kChains = 4;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const Floats inf = {kInf, kInf, kInf, kInf};
  Floats lo[kChains], hi[kChains];
  for (int c = 0; c < kChains; ++c) lo[c] = inf, hi[c] = -inf;
  int64_t i = 0;
  for (; i + kWidth * kChains <= n; i += kWidth * kChains) {
    for (int c = 0; c < kChains; ++c) {
      Floats x;
      std::memcpy(&x, v + i + c * kWidth, sizeof x);
      Floats low = x, high = x;
      if constexpr (kSkipInfinities) {
        const auto finite = (x - x) == 0;  // NaN for NaN and infinities
        low = finite ? x : inf;
        high = finite ? x : -inf;
      }
      lo[c] = low < lo[c] ? low : lo[c];
      hi[c] = high > hi[c] ? high : hi[c];
    }
  }
  float l = kInf, h = -kInf;
  for (int c = 0; c < kChains; ++c) {
    for (int k = 0; k < kWidth; ++k) l = std::min(l, lo[c][k]), h = std::max(h, hi[c][k]);
  }
  for (; i < n; ++i) {
    if (v[i] - v[i] == 0) l = std::min(l, v[i]), h = std::max(h, v[i]);
  }
  return {l, h};
}

}  // namespace

// Calibration reads every activation of every sample: the branchy scalar loop
// took a quarter of `osprey quantize` on pose_landmark_heavy.
std::optional<std::pair<float, float>> finite_range(const float* v, int64_t n) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  auto [lo, hi] = range_pass<false>(v, n);
  if (lo == -kInf || hi == kInf) std::tie(lo, hi) = range_pass<true>(v, n);
  if (lo > hi) return std::nullopt;
  return std::make_pair(lo, hi);
}

// ---------------------------------------------------------------- Histogram

void Histogram::grow_to(double magnitude) {
  if (width_ == 0) {
    // First non-zero value: the range is the next power of two above it.
    width_ = std::ldexp(1.0, static_cast<int>(std::ceil(std::log2(magnitude))) + 1) / kBins;
    bins_[kBins / 2] += zeros_before_range_;
    zeros_before_range_ = 0;
  }
  while (magnitude >= width_ * kBins / 2) {
    // Bin i of the old range [-R, R) becomes bin (i + kBins/2) / 2 of [-2R, 2R).
    std::vector<int64_t> merged(kBins, 0);
    for (int i = 0; i < kBins; ++i)
      merged[static_cast<size_t>((i + kBins / 2) / 2)] += bins_[static_cast<size_t>(i)];
    bins_ = std::move(merged);
    width_ *= 2;
  }
}

void Histogram::add(const float* values, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = values[i];
    if (!std::isfinite(v)) continue;
    ++count_;
    if (v == 0 && width_ == 0) {
      ++zeros_before_range_;
      continue;
    }
    if (width_ == 0 || std::abs(v) >= width_ * kBins / 2) grow_to(std::abs(v));
    const int bin = std::clamp(static_cast<int>(std::floor((v - lower()) / width_)), 0, kBins - 1);
    ++bins_[static_cast<size_t>(bin)];
  }
}

double Histogram::quantile(double fraction) const {
  if (count_ == 0 || width_ == 0) return 0;
  const double target = fraction * static_cast<double>(count_);
  double seen = 0;
  for (int i = 0; i < kBins; ++i) {
    const double c = static_cast<double>(bins_[static_cast<size_t>(i)]);
    if (seen + c >= target && c > 0) {
      const double within = (target - seen) / c;
      return lower() + (i + within) * width_;
    }
    seen += c;
  }
  return lower() + kBins * width_;
}

// ---------------------------------------------------------------- method names

namespace {
constexpr EnumName<CalibrationMethod> kMethodNames[] = {{CalibrationMethod::kMinMax, "minmax"},
                                                        {CalibrationMethod::kPercentile, "percentile"},
                                                        {CalibrationMethod::kEntropy, "entropy"}};
}  // namespace

CalibrationMethod parse_calibration_method(const std::string& name) {
  if (auto m = value_named(kMethodNames, name)) return *m;
  fail("unknown calibration method '{}' (use {})", name, choices(kMethodNames));
}

const char* calibration_method_name(CalibrationMethod m) {
  return name_of(kMethodNames, m);
}

// ---------------------------------------------------------------- Calibrator

Calibrator::Calibrator(const Graph& graph, bool histograms)
    : stats_(graph.tensors.size()), histograms_(histograms) {}

void Calibrator::start_sample(int file) {
  OSPREY_CHECK(file >= 0, "calibration: file index {}", file);
  if (file >= files_) {
    constexpr float kInf = std::numeric_limits<float>::infinity();
    files_ = file + 1;
    file_ranges_.resize(static_cast<size_t>(files_) * stats_.size(), {kInf, -kInf});
  }
  file_ = file;
}

void Calibrator::record(const GraphRunner& runner, int file) {
  start_sample(file);
  const Graph& g = runner.graph();
  for (size_t t = 0; t < g.tensors.size(); ++t) record_tensor(t, g.tensors[t]);
  ++samples_;
}

void Calibrator::record(const StackGraphRunner& runner, int file) {
  OSPREY_CHECK(runner.num_tensors() == stats_.size(),
               "calibration: the runner's graph has {} tensors, not {}", runner.num_tensors(), stats_.size());
  start_sample(file);
  for (size_t t = 0; t < stats_.size(); ++t) {
    if (const Tensor* x = runner.tensor(static_cast<int>(t))) record_tensor(t, *x);
  }
  ++samples_;
}

std::optional<std::pair<float, float>> Calibrator::file_range(int t, int file) const {
  if (file < 0 || file >= files_ || t < 0 || static_cast<size_t>(t) >= stats_.size()) return std::nullopt;
  const auto& r = file_ranges_[static_cast<size_t>(file) * stats_.size() + static_cast<size_t>(t)];
  if (r.first > r.second) return std::nullopt;
  return r;
}

void Calibrator::record_tensor(size_t t, const Tensor& x) {
  if (x.is_constant || x.type != DType::kFloat32 || x.data == nullptr) return;
  TensorStats& s = stats_[t];
  const float* v = x.data_as<float>();
  const int64_t n = x.num_elements();
  if (const auto range = finite_range(v, n)) {
    s.min = s.seen ? std::min(s.min, range->first) : range->first;
    s.max = s.seen ? std::max(s.max, range->second) : range->second;
    s.seen = true;
    auto& f = file_ranges_[static_cast<size_t>(file_) * stats_.size() + t];
    f = {std::min(f.first, range->first), std::max(f.second, range->second)};
  }
  if (histograms_) s.histogram.add(v, n);
}

namespace {

// TensorRT-style entropy calibration on a one-sided histogram of |x| (or of x
// when the tensor is non-negative): the clipping threshold whose 128-level
// quantized distribution is closest (KL divergence) to the clipped one.
double entropy_threshold(const std::vector<double>& hist, double width, int levels) {
  const int n = static_cast<int>(hist.size());
  int last = n;
  while (last > 0 && hist[static_cast<size_t>(last - 1)] == 0) --last;
  if (last <= levels) return last * width;
  double best_kl = std::numeric_limits<double>::infinity();
  int best = last;
  // Candidate thresholds every few bins keep this fast on 2048-bin histograms.
  const int step = std::max(1, (last - levels) / 256);
  for (int i = levels; i <= last; i += step) {
    std::vector<double> p(hist.begin(), hist.begin() + i);
    double outliers = 0;
    for (int k = i; k < n; ++k) outliers += hist[static_cast<size_t>(k)];
    p.back() += outliers;
    // Q: p's bins merged into `levels` groups, spread back over the non-empty bins.
    std::vector<double> q(static_cast<size_t>(i), 0.0);
    const double per = static_cast<double>(i) / levels;
    for (int j = 0; j < levels; ++j) {
      const int start = static_cast<int>(std::floor(j * per));
      const int end = std::min(i, static_cast<int>(std::floor((j + 1) * per)));
      double sum = 0;
      int nonzero = 0;
      for (int k = start; k < end; ++k) {
        sum += hist[static_cast<size_t>(k)];
        nonzero += hist[static_cast<size_t>(k)] > 0 ? 1 : 0;
      }
      for (int k = start; k < end; ++k) {
        if (hist[static_cast<size_t>(k)] > 0) q[static_cast<size_t>(k)] = sum / nonzero;
      }
    }
    double psum = 0, qsum = 0;
    for (int k = 0; k < i; ++k) {
      psum += p[static_cast<size_t>(k)];
      qsum += q[static_cast<size_t>(k)];
    }
    if (psum <= 0 || qsum <= 0) continue;
    double kl = 0;
    for (int k = 0; k < i; ++k) {
      const double pk = p[static_cast<size_t>(k)] / psum;
      if (pk <= 0) continue;
      const double qk = q[static_cast<size_t>(k)] / qsum;
      kl += qk > 0 ? pk * std::log(pk / qk) : pk * 20.0;  // empty Q bin: a large finite penalty
    }
    if (kl < best_kl) {
      best_kl = kl;
      best = i;
    }
  }
  return best * width;
}

}  // namespace

std::pair<float, float> Calibrator::range(int t, CalibrationMethod method, double percentile) const {
  const TensorStats& s = stats_[static_cast<size_t>(t)];
  float lo = std::min(s.min, 0.0f), hi = std::max(s.max, 0.0f);
  if (!s.seen || method == CalibrationMethod::kMinMax || s.histogram.empty()) return {lo, hi};
  const Histogram& h = s.histogram;
  if (method == CalibrationMethod::kPercentile) {
    const double tail = (100.0 - percentile) / 100.0;
    const double qlo = h.quantile(tail), qhi = h.quantile(1.0 - tail);
    lo = std::min(0.0f, std::max(lo, static_cast<float>(qlo)));
    hi = std::max(0.0f, std::min(hi, static_cast<float>(qhi)));
    return {lo, hi};
  }
  // Entropy: fold the histogram at zero.
  const int half = Histogram::kBins / 2;
  const bool non_negative = s.min >= 0;
  std::vector<double> folded(static_cast<size_t>(half), 0.0);
  for (int i = 0; i < Histogram::kBins; ++i) {
    const int64_t c = h.bins()[static_cast<size_t>(i)];
    const int k = i >= half ? i - half : half - 1 - i;
    folded[static_cast<size_t>(k)] += static_cast<double>(c);
  }
  const double threshold = entropy_threshold(folded, h.bin_width(), non_negative ? 255 : 128);
  if (non_negative) return {0.0f, std::min(hi, static_cast<float>(threshold))};
  return {std::max(lo, static_cast<float>(-threshold)), std::min(hi, static_cast<float>(threshold))};
}

// ---------------------------------------------------------------- samples

namespace {

bool has_extension(const std::string& path, std::initializer_list<const char*> exts) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* e : exts) {
    if (ext == e) return true;
  }
  return false;
}

bool is_image(const std::string& p) {
  return has_extension(p, {".jpg", ".jpeg", ".png"});
}
bool is_npy(const std::string& p) {
  return has_extension(p, {".npy"});
}

}  // namespace

std::vector<std::string> collect_sample_files(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : std::filesystem::directory_iterator(p, ec)) {
        const std::string f = entry.path().string();
        if (entry.is_regular_file() && (is_image(f) || is_npy(f))) found.push_back(f);
      }
      OSPREY_CHECK(!ec, "{}: cannot list the directory: {}", p, ec.message());
      std::sort(found.begin(), found.end());
      OSPREY_CHECK(!found.empty(), "{}: no .jpg, .png or .npy files in the directory", p);
      files.insert(files.end(), found.begin(), found.end());
    } else {
      OSPREY_CHECK(std::filesystem::is_regular_file(p, ec), "{}: no such file or directory", p);
      OSPREY_CHECK(is_image(p) || is_npy(p), "{}: calibration files must be .jpg, .png or .npy", p);
      files.push_back(p);
    }
  }
  OSPREY_CHECK(!files.empty(), "no calibration files given");
  return files;
}

vision::Image augment_image(const vision::Image& source, int variant) {
  if (variant == 0) return source;
  std::mt19937 rng(static_cast<uint32_t>(variant) * 2654435761u + 12345u);
  std::uniform_real_distribution<float> u01(0.0f, 1.0f);
  vision::Image image = source;
  // Crop 60-100% of the area with a random aspect change and position.
  const float area = 0.6f + 0.4f * u01(rng);
  const float aspect = 0.8f + 0.4f * u01(rng);
  const int w =
      std::clamp(static_cast<int>(std::lround(image.width * std::sqrt(area * aspect))), 8, image.width);
  const int h =
      std::clamp(static_cast<int>(std::lround(image.height * std::sqrt(area / aspect))), 8, image.height);
  const int x = static_cast<int>(u01(rng) * static_cast<float>(image.width - w));
  const int y = static_cast<int>(u01(rng) * static_cast<float>(image.height - h));
  image = vision::crop_image(image, x, y, w, h);
  // Mirror half of the variants.
  if (rng() % 2 == 0) {
    for (int r = 0; r < image.height; ++r) {
      uint8_t* row = image.row(r);
      for (int a = 0, b = image.width - 1; a < b; ++a, --b) {
        for (int c = 0; c < image.channels; ++c)
          std::swap(row[a * image.channels + c], row[b * image.channels + c]);
      }
    }
  }
  // A third of them downscaled (loses detail the way a distant camera does).
  if (rng() % 3 == 0) {
    const float s = 0.35f + 0.4f * u01(rng);
    image = vision::resize_image(image, std::max(8, static_cast<int>(image.width * s)),
                                 std::max(8, static_cast<int>(image.height * s)));
  }
  // Brightness and contrast.
  const float gain = 0.7f + 0.6f * u01(rng);
  const float offset = -25.0f + 50.0f * u01(rng);
  for (uint8_t& p : image.pixels) {
    const float v = (static_cast<float>(p) - 128.0f) * gain + 128.0f + offset;
    p = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
  }
  return image;
}

SampleSource::SampleSource(std::vector<std::string> files, int samples, bool augment,
                           std::optional<InputRecipe> recipe)
    : files_(std::move(files)), augment_(augment), recipe_(recipe) {
  OSPREY_CHECK(!files_.empty(), "no calibration files");
  OSPREY_CHECK(samples >= 1, "--samples must be at least 1");
  bool any_image = false;
  for (const std::string& f : files_) any_image = any_image || is_image(f);
  if (any_image) {
    OSPREY_CHECK(recipe_.has_value(),
                 "calibration images need the model's input normalisation: the model has no task head in "
                 "zoo/models.json, so give --input-range LO,HI (e.g. 0,1 or -1,1)");
  }
  // Images are augmented to reach `samples` (an .npy file is reused as is).
  if (augment_ && any_image) {
    count_ = samples;
  } else {
    count_ = std::min<int>(samples, static_cast<int>(files_.size()));
  }
  decoded_.resize(files_.size());
}

std::string SampleSource::describe() const {
  int images = 0;
  for (const std::string& f : files_) images += is_image(f) ? 1 : 0;
  const int npys = static_cast<int>(files_.size()) - images;
  std::string s = fmt::format("{} sample{}", count_, count_ == 1 ? "" : "s");
  if (images > 0 && count_ > static_cast<int>(files_.size())) {
    s += fmt::format(" from {} image{} (augmented: crops, flips, downscales, brightness/contrast)", images,
                     images == 1 ? "" : "s");
  } else if (images > 0) {
    s += fmt::format(" from {} image{}", std::min(images, count_), images == 1 ? "" : "s");
  }
  if (npys > 0) s += fmt::format(", {} .npy file{}", npys, npys == 1 ? "" : "s");
  return s;
}

bool SampleSource::image_sample(int i) const {
  return is_image(files_[static_cast<size_t>(file_of(i))]);
}

void SampleSource::fill(int i, Tensor& input) const {
  const size_t file = static_cast<size_t>(file_of(i));
  const int variant = i / static_cast<int>(files_.size());
  const std::string& path = files_[file];
  if (is_npy(path)) {
    const NpyArray a = read_npy(path);
    OSPREY_CHECK(a.type == input.type && a.shape == input.shape,
                 "{}: has shape {} {}, the model input '{}' is {} {}", path, shape_str(a.shape),
                 dtype_name(a.type), input.name, shape_str(input.shape), dtype_name(input.type));
    std::memcpy(input.data, a.data.data(), input.num_bytes());
    return;
  }
  if (decoded_[file].empty()) decoded_[file] = vision::to_rgb(vision::read_image(path));
  const vision::Image image = augment_ ? augment_image(decoded_[file], variant) : decoded_[file];
  const InputRecipe& r = *recipe_;
  OSPREY_CHECK(input.rank() == 4 && input.dim(1) == r.height && input.dim(2) == r.width && input.dim(3) == 3,
               "model input '{}' has shape {}, expected [1, {}, {}, 3] for images", input.name,
               shape_str(input.shape), r.height, r.width);
  const vision::InputTransform transform =
      vision::make_input_transform(image.width, image.height, r.width, r.height, r.resize);
  vision::fill_input_tensor(vision::render_input(image, transform), r.normalization, input);
}

namespace {

template <typename Runner>
void calibrate_with(Runner& runner, const SampleSource& source, Calibrator& calibrator,
                    const std::function<void(int, int)>& progress) {
  OSPREY_CHECK(runner.num_inputs() == 1, "calibration supports models with one input; this one has {}",
               runner.num_inputs());
  for (int i = 0; i < source.size(); ++i) {
    source.fill(i, runner.input(0));
    runner.run();
    calibrator.record(runner, source.file_of(i));
    if (progress) progress(i + 1, source.size());
  }
}

}  // namespace

void calibrate(GraphRunner& runner, const SampleSource& source, Calibrator& calibrator,
               const std::function<void(int, int)>& progress) {
  calibrate_with(runner, source, calibrator, progress);
}

void calibrate(StackGraphRunner& runner, const SampleSource& source, Calibrator& calibrator,
               const std::function<void(int, int)>& progress) {
  calibrate_with(runner, source, calibrator, progress);
}

// ---------------------------------------------------------------- progress bar

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)), tty_(isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() {
  if (drawn_) std::fputs("\n", stderr);
}

void ProgressBar::update(int done, int total) {
  if (!tty_ || total <= 0) return;
  constexpr int kWidth = 30;
  const int filled = done * kWidth / total;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %d/%d", label_.c_str(), bar.c_str(), done, total);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace osprey::quant
