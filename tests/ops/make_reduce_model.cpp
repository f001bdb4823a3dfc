// Writes MEAN or SUM of a uint8 [1, H, W, C] input over the given axes, int8
// or uint8 inside, with osprey's model writer, for mean_litert.mjs and
// sum_litert.mjs. LiteRT.js takes no int8 inputs or outputs: an int8 op sits
// between QUANTIZE ops that only move the zero point by 128.
//   make_reduce_model OUT.tflite MEAN|SUM int8|uint8 H W C IN_SCALE IN_ZERO_POINT OUT_SCALE OUT_ZERO_POINT
//                     AXES KEEP_DIMS
// (zero points as uint8 values; AXES e.g. 1,2; KEEP_DIMS 0 or 1)
#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "model/writer.h"
#include "op_model_maker.h"

namespace osprey {
namespace {

struct ReduceCase {
  OpCode code = OpCode::kMean;
  bool int8 = false;
  Shape in;
  float in_scale = 1, out_scale = 1;
  int in_zp = 0, out_zp = 0;
  std::vector<int32_t> axes;
  bool keep_dims = true;
};

std::vector<uint8_t> build(const ReduceCase& c) {
  Shape out;
  for (size_t d = 0; d < c.in.size(); ++d) {
    const bool reduced = std::find(c.axes.begin(), c.axes.end(), static_cast<int32_t>(d)) != c.axes.end();
    if (!reduced)
      out.push_back(c.in[d]);
    else if (c.keep_dims)
      out.push_back(1);
  }
  Graph g;
  g.tensors.push_back(op_tests::quantized_tensor("x", DType::kUInt8, c.in, c.in_scale, c.in_zp));
  g.tensors.push_back(op_tests::quantized_tensor("y", DType::kUInt8, out, c.out_scale, c.out_zp));
  Tensor axes = op_tests::plain_tensor("axes", DType::kInt32, {static_cast<int32_t>(c.axes.size())});
  axes.is_constant = true;
  std::copy(c.axes.begin(), c.axes.end(), reinterpret_cast<int32_t*>(g.allocate_constant(axes)));
  g.tensors.push_back(axes);
  Op reduce = op_tests::make_op(c.code, {0, 2}, 1);
  reduce.options = ReducerOptions{c.keep_dims};
  return op_tests::write_on_uint8(g, reduce, 0, 1, c.int8);
}

}  // namespace
}  // namespace osprey

int main(int argc, char** argv) {
  const std::string op = argc == 13 ? argv[2] : "", type = argc == 13 ? argv[3] : "";
  if ((op != "MEAN" && op != "SUM") || (type != "int8" && type != "uint8")) {
    std::fprintf(
        stderr,
        "usage: make_reduce_model OUT.tflite MEAN|SUM int8|uint8 H W C IN_SCALE IN_ZERO_POINT OUT_SCALE "
        "OUT_ZERO_POINT AXES KEEP_DIMS\n");
    return 2;
  }
  return osprey::op_tests::run_maker([&] {
    osprey::ReduceCase c;
    c.code = op == "SUM" ? osprey::OpCode::kSum : osprey::OpCode::kMean;
    c.int8 = type == "int8";
    c.in = {1, std::stoi(argv[4]), std::stoi(argv[5]), std::stoi(argv[6])};
    c.in_scale = std::stof(argv[7]);
    c.in_zp = std::stoi(argv[8]);
    c.out_scale = std::stof(argv[9]);
    c.out_zp = std::stoi(argv[10]);
    std::stringstream axes(argv[11]);
    for (std::string a; std::getline(axes, a, ',');) c.axes.push_back(std::stoi(a));
    c.keep_dims = std::string(argv[12]) == "1";
    osprey::op_tests::write_file(argv[1], osprey::build(c));
    return 0;
  });
}
