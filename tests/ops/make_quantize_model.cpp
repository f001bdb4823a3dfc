// Writes float32[N] -> QUANTIZE (int8 or uint8, one scale and zero point)
// [-> QUANTIZE to other parameters] -> DEQUANTIZE -> float32[N] with
// osprey's model writer: the float output shows each quantized value
// exactly, so that quantize_litert.mjs can compare QUANTIZE's rounding with
// LiteRT's (which takes no int8 outputs).
//   make_quantize_model OUT.tflite int8|uint8 SCALE ZERO_POINT N [int8|uint8 SCALE2 ZERO_POINT2]
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "model/writer.h"
#include "op_model_maker.h"

namespace osprey {
namespace {

struct Step {
  DType type;
  float scale;
  int zero_point;
};

std::vector<uint8_t> build(const std::vector<Step>& steps, int n) {
  Graph g;
  Tensor x;
  x.name = "x";
  x.shape = {1, n};
  g.tensors = {x};
  for (const Step& step : steps) {
    Tensor q = x;
    q.name = "quantized" + std::to_string(g.tensors.size());
    q.type = step.type;
    q.quant.scale = {step.scale};
    q.quant.zero_point = {step.zero_point};
    g.tensors.push_back(q);
    Op quantize;
    quantize.code = static_cast<int32_t>(OpCode::kQuantize);
    quantize.inputs = {static_cast<int>(g.tensors.size()) - 2};
    quantize.outputs = {static_cast<int>(g.tensors.size()) - 1};
    g.ops.push_back(quantize);
  }
  Tensor out = x;
  out.name = "dequantized";
  g.tensors.push_back(out);
  Op dequantize;
  dequantize.code = static_cast<int32_t>(OpCode::kDequantize);
  dequantize.inputs = {static_cast<int>(g.tensors.size()) - 2};
  dequantize.outputs = {static_cast<int>(g.tensors.size()) - 1};
  g.ops.push_back(dequantize);
  g.inputs = {0};
  g.outputs = {dequantize.outputs[0]};
  return write_tflite(g);
}

}  // namespace
}  // namespace osprey

int main(int argc, char** argv) {
  const auto type_of = [](const std::string& t) {
    return t == "int8"    ? std::optional(osprey::DType::kInt8)
           : t == "uint8" ? std::optional(osprey::DType::kUInt8)
                          : std::nullopt;
  };
  if ((argc != 6 && argc != 9) || !type_of(argv[2]) || (argc == 9 && !type_of(argv[6]))) {
    std::fprintf(stderr,
                 "usage: make_quantize_model OUT.tflite int8|uint8 SCALE ZERO_POINT N [int8|uint8 SCALE2 "
                 "ZERO_POINT2]\n");
    return 2;
  }
  return osprey::op_tests::run_maker([&] {
    std::vector<osprey::Step> steps = {{*type_of(argv[2]), std::stof(argv[3]), std::stoi(argv[4])}};
    if (argc == 9) steps.push_back({*type_of(argv[6]), std::stof(argv[7]), std::stoi(argv[8])});
    osprey::op_tests::write_file(argv[1], osprey::build(steps, std::stoi(argv[5])));
    return 0;
  });
}
