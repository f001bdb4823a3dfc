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

std::vector<uint8_t> build(bool int8, float in_scale, int in_zp, float out_scale, int out_zp, float alpha) {
  Graph g;
  g.tensors = {op_tests::quantized_tensor("x", DType::kUInt8, {1, 256}, in_scale, in_zp),
               op_tests::quantized_tensor("y", DType::kUInt8, {1, 256}, out_scale, out_zp)};
  Op leaky = op_tests::make_op(OpCode::kLeakyRelu, {0}, 1);
  leaky.options = LeakyReluOptions{alpha};
  return op_tests::write_on_uint8(g, leaky, 0, 1, int8);
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
