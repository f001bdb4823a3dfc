// The OCR models run by osprey's own Interpreter. The detector's input size
// follows the picture and the recogniser's width the text line, so one
// interpreter is prepared per input shape and kept for reuse.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/interpreter.h"
#include "vision/ocr/text_models.h"

namespace osprey::vision::ocr {

// Loads `path` prepared for one NCHW input shape.
using InterpreterLoader =
    std::function<std::unique_ptr<Interpreter>(const std::string& path, const std::vector<int64_t>& nchw)>;

// .tflite files load as they are (their input must have that shape, NCHW
// or NHWC); .onnx files go through the ONNX importer with the shape fixed.
// `options` (and the backends it points to) must outlive the loader.
InterpreterLoader default_interpreter_loader(const InterpreterOptions& options);

// Runs the model with a float32 input in NCHW or NHWC layout and returns its
// first output as floats (dequantized when integer).
TextModel interpreter_text_model(const std::string& path, InterpreterLoader loader);

}  // namespace osprey::vision::ocr
