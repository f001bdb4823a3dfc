// Writes LEAKY_RELU over a uint8 [1, 256] input, int8 or uint8 inside, with
// osprey's model writer, for leaky_relu_litert.mjs (LiteRT.js takes no int8
// inputs or outputs: an int8 LEAKY_RELU sits between QUANTIZE ops that only
// move the zero point by 128).
//   make_leaky_relu_model OUT.tflite int8|uint8 IN_SCALE IN_ZERO_POINT OUT_SCALE OUT_ZERO_POINT ALPHA
// (zero points as uint8 values)
#include <cstdio>
#include <string>
#include <vector>

#include "model/writer.h"
#include "op_model_maker.h"

namespace osprey {
namespace {

Tensor quantized(const std::string& name, DType type, float scale, int zero_point) {
  Tensor t;
  t.name = name;
  t.type = type;
  t.shape = {1, 256};
  t.quant.scale = {scale};
  t.quant.zero_point = {zero_point};
  return t;
}

Op op(OpCode code, int input, int output) {
  Op o;
  o.code = static_cast<int32_t>(code);
  o.inputs = {input};
  o.outputs = {output};
  return o;
}

std::vector<uint8_t> build(bool int8, float in_scale, int in_zp, float out_scale, int out_zp, float alpha) {
  Graph g;
  g.tensors = {quantized("x", DType::kUInt8, in_scale, in_zp),
               quantized("y", DType::kUInt8, out_scale, out_zp)};
  Op leaky = op(OpCode::kLeakyRelu, 0, 1);
  leaky.options = LeakyReluOptions{alpha};
  if (int8) {
    g.tensors.push_back(quantized("x_int8", DType::kInt8, in_scale, in_zp - 128));    // 2
    g.tensors.push_back(quantized("y_int8", DType::kInt8, out_scale, out_zp - 128));  // 3
    leaky.inputs = {2};
    leaky.outputs = {3};
    g.ops = {op(OpCode::kQuantize, 0, 2), leaky, op(OpCode::kQuantize, 3, 1)};
  } else {
    g.ops = {leaky};
  }
  g.inputs = {0};
  g.outputs = {1};
  return write_tflite(g);
}

}  // namespace
}  // namespace osprey

int main(int argc, char** argv) {
  const std::string type = argc == 8 ? argv[2] : "";
  if (type != "int8" && type != "uint8") {
    std::fprintf(stderr,
                 "usage: make_leaky_relu_model OUT.tflite int8|uint8 IN_SCALE IN_ZERO_POINT OUT_SCALE "
                 "OUT_ZERO_POINT ALPHA\n");
    return 2;
  }
  return osprey::op_tests::run_maker([&] {
    osprey::op_tests::write_file(
        argv[1], osprey::build(type == "int8", std::stof(argv[3]), std::stoi(argv[4]), std::stof(argv[5]),
                               std::stoi(argv[6]), std::stof(argv[7])));
    return 0;
  });
}
