// Character list loading and greedy CTC decoding.
#include "vision/ocr/ctc_decode.h"

#include "core/error.h"
#include "vision/image_io.h"

namespace osprey::vision::ocr {

Charset::Charset(std::vector<std::string> characters) {
  classes_.reserve(characters.size() + 2);
  classes_.emplace_back();  // blank: decodes to nothing
  for (std::string& c : characters) classes_.push_back(std::move(c));
  classes_.emplace_back(" ");
}

Charset Charset::parse(std::string_view text, const std::string& source) {
  std::vector<std::string> characters;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    OSPREY_CHECK(!line.empty(), "{}: line {} is empty (one character per line expected)", source,
                 characters.size() + 1);
    characters.emplace_back(line);
    start = end + 1;
  }
  OSPREY_CHECK(!characters.empty(), "{}: no characters", source);
  return Charset(std::move(characters));
}

Charset Charset::load(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

Recognition ctc_greedy_decode(std::span<const float> probabilities, int steps, const Charset& charset) {
  const auto classes = static_cast<size_t>(charset.size());
  OSPREY_CHECK(steps >= 0 && probabilities.size() == static_cast<size_t>(steps) * classes,
               "text recognition: {} steps of {} classes need {} values, got {}", steps, classes,
               static_cast<size_t>(steps) * classes, probabilities.size());
  Recognition result;
  double score_sum = 0;
  int kept = 0;
  size_t previous = 0;
  for (size_t t = 0; t < static_cast<size_t>(steps); ++t) {
    const float* row = probabilities.data() + t * classes;
    size_t best = 0;
    for (size_t c = 1; c < classes; ++c) {
      if (row[c] > row[best]) best = c;
    }
    const bool repeat = t > 0 && best == previous;
    previous = best;
    if (repeat || best == 0) continue;
    result.text += charset.at(static_cast<int>(best));
    score_sum += row[best];
    ++kept;
  }
  result.score = kept == 0 ? 0.0f : static_cast<float>(score_sum / kept);
  return result;
}

}  // namespace osprey::vision::ocr
