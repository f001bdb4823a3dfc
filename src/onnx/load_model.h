// One way for tools to open a model: .tflite as is, .onnx converted in memory.
#pragma once

#include <memory>
#include <string>

#include "onnx/import.h"
#include "runtime/interpreter.h"

namespace osprey::onnx {

// Loads `path` into an Interpreter; an .onnx model is converted first with `import`.
std::unique_ptr<Interpreter> load_model(const std::string& path, const ImportOptions& import = {},
                                        const InterpreterOptions& options = {});

}  // namespace osprey::onnx
