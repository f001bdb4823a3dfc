// Writes MEAN over height and width (keep_dims) of a uint8 [1, H, W, C]
// input, int8 or uint8 inside, with osprey's model writer, for
// mean_litert.mjs. LiteRT.js takes no int8 inputs or outputs: an int8 MEAN
// sits between QUANTIZE ops that only move the zero point by 128.
//   make_mean_model OUT.tflite int8|uint8 H W C IN_SCALE IN_ZERO_POINT OUT_SCALE OUT_ZERO_POINT
// (zero points as uint8 values)
#include <cstdio>
#include <string>
#include <vector>

#include "model/writer.h"
#include "op_model_maker.h"

namespace osprey {
namespace {

std::vector<uint8_t> build(bool int8, int h, int w, int c, float in_scale, int in_zp, float out_scale,
                           int out_zp) {
  Graph g;
  g.tensors.push_back(op_tests::quantized_tensor("x", DType::kUInt8, {1, h, w, c}, in_scale, in_zp));
  g.tensors.push_back(op_tests::quantized_tensor("mean", DType::kUInt8, {1, 1, 1, c}, out_scale, out_zp));
  Tensor axes = op_tests::plain_tensor("axes", DType::kInt32, {2});
  axes.is_constant = true;
  int32_t* a = reinterpret_cast<int32_t*>(g.allocate_constant(axes));
  a[0] = 1;
  a[1] = 2;
  g.tensors.push_back(axes);
  Op mean = op_tests::make_op(OpCode::kMean, {0, 2}, 1);
  mean.options = ReducerOptions{true};
  return op_tests::write_on_uint8(g, mean, 0, 1, int8);
}

}  // namespace
}  // namespace osprey

int main(int argc, char** argv) {
  const std::string type = argc == 10 ? argv[2] : "";
  if (type != "int8" && type != "uint8") {
    std::fprintf(stderr,
                 "usage: make_mean_model OUT.tflite int8|uint8 H W C IN_SCALE IN_ZERO_POINT OUT_SCALE "
                 "OUT_ZERO_POINT\n");
    return 2;
  }
  return osprey::op_tests::run_maker([&] {
    osprey::op_tests::write_file(
        argv[1],
        osprey::build(type == "int8", std::stoi(argv[3]), std::stoi(argv[4]), std::stoi(argv[5]),
                      std::stof(argv[6]), std::stoi(argv[7]), std::stof(argv[8]), std::stoi(argv[9])));
    return 0;
  });
}
