// Writes small .tflite files for tests: a description in, flatbuffer bytes out.
// Tests change one field of a valid description to make each malformed case.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace osprey::testing {

struct TensorSpec {
  std::vector<int32_t> shape;
  int8_t type = 0;      // TFLite TensorType (0 = float32)
  uint32_t buffer = 0;  // 0 = no data
  std::string name;
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
};

struct OpSpec {
  int32_t opcode_index = 0;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  // Conv2DOptions when the op is CONV_2D: SAME padding, these strides.
  bool conv_options = false;
  int stride = 1;
};

struct ModelSpec {
  std::vector<int32_t> op_codes;                  // builtin code per operator code entry
  std::vector<std::vector<uint8_t>> buffers{{}};  // buffer 0 is the empty sentinel
  std::vector<TensorSpec> tensors;
  std::vector<OpSpec> ops;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
};

std::vector<uint8_t> build_model(const ModelSpec& spec);

// input [1,5,5,2] -> CONV_2D 3x3 SAME (4 filters, bias) -> RELU -> output.
ModelSpec tiny_conv_model();

template <typename T>
std::vector<uint8_t> as_bytes(const std::vector<T>& values) {
  const auto* p = reinterpret_cast<const uint8_t*>(values.data());
  return std::vector<uint8_t>(p, p + values.size() * sizeof(T));
}

}  // namespace osprey::testing
