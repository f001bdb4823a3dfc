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

Tensor quantized(const std::string& name, DType type, Shape shape, float scale, int zero_point) {
  Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  t.quant.scale = {scale};
  t.quant.zero_point = {zero_point};
  return t;
}

Op op(OpCode code, std::vector<int> inputs, int output) {
  Op o;
  o.code = static_cast<int32_t>(code);
  o.inputs = std::move(inputs);
  o.outputs = {output};
  return o;
}

std::vector<uint8_t> build(bool int8, int h, int w, int c, float in_scale, int in_zp, float out_scale,
                           int out_zp) {
  Graph g;
  const Shape in_shape{1, h, w, c}, out_shape{1, 1, 1, c};
  g.tensors.push_back(quantized("x", DType::kUInt8, in_shape, in_scale, in_zp));        // 0
  g.tensors.push_back(quantized("mean", DType::kUInt8, out_shape, out_scale, out_zp));  // 1
  Tensor axes;
  axes.name = "axes";
  axes.type = DType::kInt32;
  axes.shape = {2};
  axes.is_constant = true;
  int32_t* a = reinterpret_cast<int32_t*>(g.allocate_constant(axes));
  a[0] = 1;
  a[1] = 2;
  g.tensors.push_back(axes);  // 2
  Op mean = op(OpCode::kMean, {0, 2}, 1);
  mean.options = ReducerOptions{true};
  if (!int8) {
    g.ops = {mean};
  } else {
    g.tensors.push_back(quantized("x_int8", DType::kInt8, in_shape, in_scale, in_zp - 128));        // 3
    g.tensors.push_back(quantized("mean_int8", DType::kInt8, out_shape, out_scale, out_zp - 128));  // 4
    mean.inputs = {3, 2};
    mean.outputs = {4};
    g.ops = {op(OpCode::kQuantize, {0}, 3), mean, op(OpCode::kQuantize, {4}, 1)};
  }
  g.inputs = {0};
  g.outputs = {1};
  return write_tflite(g);
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
