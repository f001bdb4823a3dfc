// ONNX import: reads an .onnx model and converts it into osprey's graph IR
// in NHWC layout, using only standard TFLite builtins, so the result runs in
// osprey and, written with write_tflite, loads in LiteRT (docs/onnx.md).
//
// The converted graph keeps the ONNX model's own inputs and outputs: same
// order, same names, same (NCHW) shapes. 4-D activations are transposed to
// NHWC right after the inputs and back right before the outputs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace osprey::onnx {

// `--input-shape x:1,3,640,640`: the full shape of one graph input.
struct InputShape {
  std::string name;
  std::vector<int64_t> dims;
};

struct ImportOptions {
  std::vector<InputShape> input_shapes;
};

// Parses "NAME:D0,D1,..."; throws osprey::Error on a malformed spec.
InputShape parse_input_shape(std::string_view spec);

// The ONNX op types the importer takes (converted, or folded when constant),
// sorted: `osprey convert --list-ops`, and what the node-case tests claim.
std::vector<std::string> supported_op_types();

// True when `path` names an ONNX model (by its .onnx extension).
bool is_onnx_path(const std::string& path);

// Converts the model at `path` into the bytes of a .tflite model. Throws
// osprey::Error with one line ("node 'conv_3' (Conv): reason", "unsupported
// ONNX ops: ArgMax (node 'argmax_0'), ...") when the model cannot be read or
// converted; never returns a partial model.
std::vector<uint8_t> convert_onnx_file(const std::string& path, const ImportOptions& options = {});

// The same on bytes in memory; external data is looked up under `model_dir`
// (empty: external data is refused).
std::vector<uint8_t> convert_onnx_bytes(std::span<const uint8_t> bytes, const std::string& model_dir,
                                        const ImportOptions& options = {});

}  // namespace osprey::onnx
