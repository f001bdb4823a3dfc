// Writes a one-op-pair model, float32[N] -> QUANTIZE (int8 or uint8, one
// scale and zero point) -> DEQUANTIZE -> float32[N], with osprey's model
// writer: the float output shows each quantized value exactly, so that
// quantize_litert.mjs can compare QUANTIZE's rounding with LiteRT's (which
// takes no int8 outputs).
//   make_quantize_model OUT.tflite int8|uint8 SCALE ZERO_POINT N
#include <cstdio>
#include <string>

#include "model/writer.h"

namespace osprey {
namespace {

std::vector<uint8_t> build(DType type, float scale, int zero_point, int n) {
  Graph g;
  Tensor in;
  in.name = "x";
  in.shape = {1, n};
  Tensor q = in;
  q.name = "quantized";
  q.type = type;
  q.quant.scale = {scale};
  q.quant.zero_point = {zero_point};
  Tensor out = in;
  out.name = "dequantized";
  g.tensors = {in, q, out};
  Op quantize;
  quantize.code = static_cast<int32_t>(OpCode::kQuantize);
  quantize.inputs = {0};
  quantize.outputs = {1};
  Op dequantize;
  dequantize.code = static_cast<int32_t>(OpCode::kDequantize);
  dequantize.inputs = {1};
  dequantize.outputs = {2};
  g.ops = {quantize, dequantize};
  g.inputs = {0};
  g.outputs = {2};
  return write_tflite(g);
}

}  // namespace
}  // namespace osprey

int main(int argc, char** argv) {
  const std::string type = argc == 6 ? argv[2] : "";
  if (type != "int8" && type != "uint8") {
    std::fprintf(stderr, "usage: make_quantize_model OUT.tflite int8|uint8 SCALE ZERO_POINT N\n");
    return 2;
  }
  try {
    const auto bytes = osprey::build(type == "int8" ? osprey::DType::kInt8 : osprey::DType::kUInt8,
                                     std::stof(argv[3]), std::stoi(argv[4]), std::stoi(argv[5]));
    FILE* f = std::fopen(argv[1], "wb");
    if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
      std::fprintf(stderr, "cannot write %s\n", argv[1]);
      return 1;
    }
    std::fclose(f);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
