// The one way tests write .tflite files. Two levels:
//  - ModelSpec + build_model: the file's fields written as given, so a test
//    can change one field of a valid description to make a malformed case;
//  - ModelBuilder: tensors and ops added one at a time (shapes, seeded random
//    or sparse constants, builtin or custom options), producing a ModelSpec.
// Graph-level tests of one op use OpTester (kernels/op_tester.h), which
// writes its graph with osprey's own writer instead.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "model/tflite_schema_generated.h"

namespace osprey::testing {

struct TensorSpec {
  std::vector<int32_t> shape;
  int8_t type = 0;      // TFLite TensorType (0 = float32)
  uint32_t buffer = 0;  // 0 = no data
  std::string name;
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;  // axis of per-channel scales
};

// Writes an operator's builtin options table: (union type, table offset).
using BuiltinOptionsWriter =
    std::function<std::pair<tfl::BuiltinOptions, flatbuffers::Offset<void>>(flatbuffers::FlatBufferBuilder&)>;

struct OpSpec {
  int32_t opcode_index = 0;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  // Conv2DOptions when the op is CONV_2D: SAME padding, these strides.
  bool conv_options = false;
  int stride = 1;
  BuiltinOptionsWriter options;  // any other options table (wins over conv_options)
  std::vector<uint8_t> custom_options;
};

struct ModelSpec {
  std::vector<int32_t> op_codes;                  // builtin code per operator code entry
  std::vector<std::string> custom_codes;          // custom op name per entry ("" or absent: none)
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

// Builds a one-subgraph model op by op. Tensors without data that no op
// writes become the model's inputs, in the order they were added.
class ModelBuilder {
 public:
  explicit ModelBuilder(uint32_t seed = 7) : rng_(seed) {}

  // An activation tensor (no data): a model input unless an op writes it.
  int activation(std::vector<int32_t> shape, tfl::TensorType type = tfl::TensorType::FLOAT32);
  int constant(std::vector<int32_t> shape, const std::vector<float>& values);
  int int_constant(std::vector<int32_t> shape, const std::vector<int32_t>& values);
  // Seeded random floats in [-1, 1].
  int random_constant(std::vector<int32_t> shape);
  // Seeded random floats in [-1, 1] with about `zeros` of them exactly zero, scattered.
  int sparse_constant(std::vector<int32_t> shape, double zeros);

  void op(tfl::BuiltinOperator code, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
          BuiltinOptionsWriter options = nullptr);
  void custom_op(const std::string& name, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                 std::vector<uint8_t> custom_options);
  void output(int tensor) { spec_.outputs.push_back(tensor); }

  // The description so far, with the model inputs filled in.
  ModelSpec spec() const;
  std::vector<uint8_t> finish() const { return build_model(spec()); }

 private:
  int add(std::vector<int32_t> shape, tfl::TensorType type, std::vector<uint8_t> data);

  ModelSpec spec_;
  std::mt19937 rng_;
};

}  // namespace osprey::testing
