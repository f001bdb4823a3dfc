// Greedy CTC decoding of the recogniser's per-step class probabilities into
// a string, with PaddleOCR's character list conventions.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace osprey::vision::ocr {

// Class index -> UTF-8 string: 0 is the CTC blank, then one entry per line
// of the key file, then " " (PaddleOCR's use_space_char).
class Charset {
 public:
  explicit Charset(std::vector<std::string> characters);
  // Reads a key file (one character per line, UTF-8); one-line errors.
  static Charset load(const std::string& path);
  static Charset parse(std::string_view text, const std::string& source);

  int size() const { return static_cast<int>(classes_.size()); }  // blank included
  const std::string& at(int index) const { return classes_[static_cast<size_t>(index)]; }

 private:
  std::vector<std::string> classes_;
};

struct Recognition {
  std::string text;
  float score = 0;  // mean probability of the kept steps; 0 when nothing is kept
};

// `probabilities` is steps x charset.size(), row-major. Each step's best
// class is taken; repeats of one class in consecutive steps count once, and
// blanks separate them and are dropped.
Recognition ctc_greedy_decode(std::span<const float> probabilities, int steps, const Charset& charset);

}  // namespace osprey::vision::ocr
