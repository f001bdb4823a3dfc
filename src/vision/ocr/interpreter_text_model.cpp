// Interpreter-backed OCR models, one prepared interpreter per input shape.
#include "vision/ocr/interpreter_text_model.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <utility>

#include <fmt/ranges.h>

#include "core/error.h"
#include "vision/heads/head.h"

namespace osprey::vision::ocr {
namespace {

// Rec inputs vary in width line by line; a handful of cached shapes covers a
// page without holding every variant's arena.
constexpr size_t kCachedShapes = 8;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  return fmt::format("{}", fmt::join(shape, "x"));
}

void fill_input(Tensor& tensor, const FloatTensor& input, const std::string& path) {
  OSPREY_CHECK(tensor.type == DType::kFloat32, "{}: OCR needs a float32 input, the model's is {}", path,
               dtype_name(tensor.type));
  const std::vector<int64_t>& s = input.shape;
  std::vector<int64_t> have(tensor.shape.begin(), tensor.shape.end());
  if (have == s) {
    std::memcpy(tensor.data, input.values.data(), input.values.size() * sizeof(float));
    return;
  }
  OSPREY_CHECK(s.size() == 4 && have == std::vector<int64_t>({s[0], s[2], s[3], s[1]}),
               "{}: the model's input is {}, this image needs {} (NCHW) or its NHWC transpose", path,
               shape_text(have), shape_text(s));
  const int64_t n = s[0], c = s[1], h = s[2], w = s[3];
  float* out = tensor.data_as<float>();
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < w; ++x) {
          out[((b * h + y) * w + x) * c + ch] =
              input.values[static_cast<size_t>(((b * c + ch) * h + y) * w + x)];
        }
      }
    }
  }
}

}  // namespace

InterpreterLoader default_interpreter_loader(const InterpreterOptions& options) {
  return
      [&options](const std::string& path, const std::vector<int64_t>& nchw) -> std::unique_ptr<Interpreter> {
        if (ends_with(path, ".onnx")) {
          // The ONNX importer (src/onnx/) plugs in here with the input shape fixed.
          fail(
              "{}: this osprey cannot read .onnx models yet (no ONNX importer); give .tflite models or "
              "--model-outputs (input {})",
              path, shape_text(nchw));
        }
        return Interpreter::load(path, options);
      };
}

TextModel interpreter_text_model(const std::string& path, InterpreterLoader loader) {
  using Cache = std::deque<std::pair<std::vector<int64_t>, std::unique_ptr<Interpreter>>>;
  auto cache = std::make_shared<Cache>();
  return [path, loader = std::move(loader), cache](const FloatTensor& input) {
    auto found =
        std::find_if(cache->begin(), cache->end(), [&](const auto& e) { return e.first == input.shape; });
    if (found == cache->end()) {
      if (cache->size() == kCachedShapes) cache->pop_front();
      cache->emplace_back(input.shape, loader(path, input.shape));
      found = cache->end() - 1;
    }
    Interpreter& interpreter = *found->second;
    OSPREY_CHECK(interpreter.num_inputs() == 1 && interpreter.num_outputs() >= 1,
                 "{}: an OCR model has one input and at least one output, this one {} and {}", path,
                 interpreter.num_inputs(), interpreter.num_outputs());
    fill_input(interpreter.input(0), input, path);
    interpreter.invoke();
    const Tensor& out = interpreter.output(0);
    FloatTensor result;
    result.shape.assign(out.shape.begin(), out.shape.end());
    result.values = tensor_values(out);
    return result;
  };
}

}  // namespace osprey::vision::ocr
