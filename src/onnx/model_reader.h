// Reads an untrusted .onnx into a checked ModelProto: parse with size limits,
// opset check, user-fixed input dimensions, libonnx's checker and shape
// inference (in a child process: they can crash on hostile models).
#pragma once

#include <onnx/onnx_pb.h>

#include <span>
#include <string>

#include "onnx/import.h"

namespace osprey::onnx {

// The highest default-domain opset osprey converts (what libonnx 1.12 knows).
inline constexpr int64_t kMaxOpset = 17;
// Largest .onnx file read (protobuf messages are limited to 2 GiB anyway).
inline constexpr size_t kMaxOnnxBytes = size_t{1} << 31;

// Throws osprey::Error with a one-line reason. External data must lie inside
// `model_dir` (empty: no external data).
::onnx::ModelProto read_model(std::span<const uint8_t> bytes, const std::string& model_dir,
                              const ImportOptions& options);

// The model's default-domain opset version.
int64_t default_opset(const ::onnx::ModelProto& model);

}  // namespace osprey::onnx
