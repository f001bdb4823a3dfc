// The options every model-reading command shares for .onnx models
// (`--input-shape NAME:D0,D1,...`, repeatable), and the loader they go to.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "onnx/load_model.h"
#include "vision/model_metadata.h"

namespace osprey::cli {

struct ModelImport {
  std::vector<std::string> input_shapes;

  void add_options(CLI::App* cmd) {
    cmd->add_option("--input-shape", input_shapes,
                    "For .onnx models: NAME:D0,D1,... fixes an input's dynamic dimensions (repeatable)");
  }
  onnx::ImportOptions options() const {
    onnx::ImportOptions o;
    for (const std::string& spec : input_shapes) o.input_shapes.push_back(onnx::parse_input_shape(spec));
    return o;
  }
  // `model`: a path, or a zoo name (vision::resolve_model_path).
  std::unique_ptr<Interpreter> load(const std::string& model, const InterpreterOptions& interp = {}) const {
    return onnx::load_model(vision::resolve_model_path(model), options(), interp);
  }
};

}  // namespace osprey::cli
