// The three networks of the OCR pipeline, seen through one small interface
// so the pipeline does not care what runs them: osprey's Interpreter
// (interpreter_text_model.h), or saved outputs of another runtime
// (saved_tensors.h) for tests.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace osprey::vision::ocr {

// A float32 tensor in C order; model inputs are NCHW as the ONNX models
// declare them.
struct FloatTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// One inference: an NCHW input to the model's first output.
using TextModel = std::function<FloatTensor(const FloatTensor& input)>;

struct TextModels {
  TextModel detector;    // [1,3,H,W] -> probability map [1,1,H,W]
  TextModel classifier;  // [1,3,48,192] -> [1,2] (0°, 180°); empty: no direction check
  TextModel recognizer;  // [1,3,48,W] -> [1,W/8,classes] per-step probabilities
};

}  // namespace osprey::vision::ocr
