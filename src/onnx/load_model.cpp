#include "onnx/load_model.h"

namespace osprey::onnx {

std::unique_ptr<Interpreter> load_model(const std::string& path, const ImportOptions& import,
                                        const InterpreterOptions& options) {
  if (!is_onnx_path(path)) return Interpreter::load(path, options);
  return Interpreter::from_buffer(convert_onnx_file(path, import), path, options);
}

}  // namespace osprey::onnx
