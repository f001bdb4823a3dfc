// Writes LOGISTIC or TANH over a uint8 [1, 256] input, int8 or uint8 inside,
// with osprey's model writer, for lut_litert.mjs. The output parameters are
// the ones TFLite fixes for these ops (LOGISTIC 1/256, TANH 1/128).
//   make_lut_model OUT.tflite logistic|tanh int8|uint8 IN_SCALE IN_ZERO_POINT
// (the zero point as a uint8 value)
#include <cstdio>
#include <string>

#include "op_model_maker.h"

namespace osprey {
namespace {

std::vector<uint8_t> build(bool logistic, bool int8, float in_scale, int in_zp) {
  Graph g;
  // uint8 output parameters whose int8 twins (zero point - 128) are TFLite's int8 ones.
  const float out_scale = logistic ? 1.0f / 256 : 1.0f / 128;
  const int out_zp = logistic ? 0 : 128;
  g.tensors = {op_tests::quantized_tensor("x", DType::kUInt8, {1, 256}, in_scale, in_zp),
               op_tests::quantized_tensor("y", DType::kUInt8, {1, 256}, out_scale, out_zp)};
  return op_tests::write_on_uint8(g, op_tests::make_op(logistic ? OpCode::kLogistic : OpCode::kTanh, {0}, 1),
                                  0, 1, int8);
}

}  // namespace
}  // namespace osprey

int main(int argc, char** argv) {
  const std::string op = argc == 6 ? argv[2] : "", type = argc == 6 ? argv[3] : "";
  if ((op != "logistic" && op != "tanh") || (type != "int8" && type != "uint8")) {
    std::fprintf(stderr,
                 "usage: make_lut_model OUT.tflite logistic|tanh int8|uint8 IN_SCALE IN_ZERO_POINT\n");
    return 2;
  }
  return osprey::op_tests::run_maker([&] {
    osprey::op_tests::write_file(
        argv[1], osprey::build(op == "logistic", type == "int8", std::stof(argv[4]), std::stoi(argv[5])));
    return 0;
  });
}
