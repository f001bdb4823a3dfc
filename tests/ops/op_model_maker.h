// What the model makers of the LiteRT op tests (tests/ops/make_*.cpp) share:
// tensors and ops, an op on uint8 or int8 tensors behind uint8 edges,
// writing the model, and an error as one line on stderr and exit status 1.
#pragma once

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "core/error.h"
#include "graph/graph.h"
#include "model/writer.h"

namespace osprey::op_tests {

inline Tensor plain_tensor(const std::string& name, DType type, Shape shape) {
  Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  return t;
}

inline Tensor quantized_tensor(const std::string& name, DType type, Shape shape, float scale,
                               int zero_point) {
  Tensor t = plain_tensor(name, type, std::move(shape));
  t.quant.scale = {scale};
  t.quant.zero_point = {zero_point};
  return t;
}

inline Op make_op(OpCode code, std::vector<int> inputs, int output) {
  Op o;
  o.code = static_cast<int32_t>(code);
  o.inputs = std::move(inputs);
  o.outputs = {output};
  return o;
}

// The model of `op`, which reads uint8 tensor `x` (its first input) and
// writes uint8 tensor `y`, both in g: as it is, or with `int8` on int8
// twins between QUANTIZE ops that only move the zero point by 128
// (LiteRT.js takes no int8 inputs or outputs).
inline std::vector<uint8_t> write_on_uint8(Graph& g, Op op, int x, int y, bool int8) {
  g.inputs = {x};
  g.outputs = {y};
  if (!int8) {
    g.ops = {op};
    return write_tflite(g);
  }
  const auto twin = [&](int t) {
    Tensor u = g.tensors[static_cast<size_t>(t)];
    u.name += "_int8";
    u.type = DType::kInt8;
    u.quant.zero_point[0] -= 128;
    g.tensors.push_back(u);
    return static_cast<int>(g.tensors.size()) - 1;
  };
  op.inputs[0] = twin(x);
  op.outputs = {twin(y)};
  g.ops = {make_op(OpCode::kQuantize, {x}, op.inputs[0]), op, make_op(OpCode::kQuantize, {op.outputs[0]}, y)};
  return write_tflite(g);
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  const bool ok = f && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (f) std::fclose(f);
  OSPREY_CHECK(ok, "cannot write {}", path);
}

// Runs `make` and returns its status, or 1 when it throws (the message on stderr).
template <typename F>
int run_maker(F&& make) {
  try {
    return make();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

}  // namespace osprey::op_tests
