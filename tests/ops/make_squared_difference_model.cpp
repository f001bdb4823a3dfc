// Writes a seeded random one-op SQUARED_DIFFERENCE model (float32 or int8,
// broadcasting shapes, the second input sometimes a constant) with osprey's
// model writer, for the LiteRT comparison in squared_difference_litert.mjs.
//   make_squared_difference_model OUT.tflite SEED float|int8
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "model/writer.h"
#include "op_model_maker.h"

namespace osprey {
namespace {

// Shape pairs that broadcast (NumPy rules), as vision graphs use them.
const std::pair<Shape, Shape> kShapes[] = {
    {{1, 8, 8, 16}, {1, 8, 8, 16}},
    {{1, 8, 8, 16}, {16}},
    {{1, 6, 5, 3}, {1, 1, 1, 3}},
    {{1, 4, 4, 8}, {1, 4, 4, 1}},
    {{2, 3, 4}, {4}},
    {{1, 3, 1}, {2, 1, 5}},
    {{16}, {1}},
    {{1, 1, 1, 7}, {1, 5, 6, 7}},
    {{3, 1, 6}, {2, 1, 1, 6}},
};

Tensor make_tensor(const std::string& name, DType type, Shape shape, float scale, int zero_point) {
  Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  if (type == DType::kInt8) {
    t.quant.scale = {scale};
    t.quant.zero_point = {zero_point};
  }
  return t;
}

std::vector<uint8_t> build(uint32_t seed, bool int8) {
  std::mt19937 rng(seed);
  const auto& [sa, sb] = kShapes[seed % std::size(kShapes)];
  const bool swap = rng() % 2 == 1;
  const Shape& a_shape = swap ? sb : sa;
  const Shape& b_shape = swap ? sa : sb;
  const bool b_constant = rng() % 3 == 0;
  std::uniform_real_distribution<float> unit(0, 1);
  const DType type = int8 ? DType::kInt8 : DType::kFloat32;
  const float scale_a = 0.005f + 0.05f * unit(rng), scale_b = 0.005f + 0.05f * unit(rng);
  const int zp_a = static_cast<int>(rng() % 41) - 20, zp_b = static_cast<int>(rng() % 41) - 20;
  // The output covers a random share of the largest square, so some values saturate.
  const float largest = 148.0f * (scale_a + scale_b);
  const float scale_out = largest * largest * (0.2f + 0.8f * unit(rng)) / 255.0f;

  Graph g;
  g.tensors.push_back(make_tensor("a", type, a_shape, scale_a, zp_a));
  g.tensors.push_back(make_tensor("b", type, b_shape, scale_b, zp_b));
  Shape out_shape(std::max(a_shape.size(), b_shape.size()), 1);
  for (size_t i = 0; i < out_shape.size(); ++i) {
    const size_t ra = out_shape.size() - a_shape.size(), rb = out_shape.size() - b_shape.size();
    out_shape[i] = std::max(i < ra ? 1 : a_shape[i - ra], i < rb ? 1 : b_shape[i - rb]);
  }
  g.tensors.push_back(make_tensor("squared_difference", type, out_shape, scale_out, -128));
  if (b_constant) {
    Tensor& b = g.tensors[1];
    uint8_t* data = g.allocate_constant(b);
    b.is_constant = true;
    for (int64_t i = 0; i < b.num_elements(); ++i) {
      if (int8) {
        reinterpret_cast<int8_t*>(data)[i] = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
      } else {
        reinterpret_cast<float*>(data)[i] = unit(rng) * 2 - 1;
      }
    }
  }
  Op op;
  op.code = static_cast<int32_t>(OpCode::kSquaredDifference);
  op.inputs = {0, 1};
  op.outputs = {2};
  if (!int8) {
    g.ops.push_back(op);
    g.inputs = b_constant ? std::vector<int>{0} : std::vector<int>{0, 1};
    g.outputs = {2};
    return write_tflite(g);
  }
  // LiteRT.js takes no int8 model inputs or outputs: uint8 at the edges, requantized
  // (same scale, zero point + 128) by QUANTIZE ops, as osprey quantize's uint8 recipe does.
  const auto edge = [&](int t, bool input) {
    Tensor u = g.tensors[static_cast<size_t>(t)];
    u.name += "_uint8";
    u.type = DType::kUInt8;
    u.quant.zero_point[0] += 128;
    g.tensors.push_back(u);
    const int index = static_cast<int>(g.tensors.size()) - 1;
    Op q;
    q.code = static_cast<int32_t>(OpCode::kQuantize);
    q.inputs = {input ? index : t};
    q.outputs = {input ? t : index};
    return std::make_pair(index, q);
  };
  std::vector<Op> ops;
  for (int t = 0; t < (b_constant ? 1 : 2); ++t) {
    auto [index, q] = edge(t, true);
    g.inputs.push_back(index);
    ops.push_back(q);
  }
  ops.push_back(op);
  auto [out, q] = edge(2, false);
  ops.push_back(q);
  g.outputs = {out};
  g.ops = ops;
  return write_tflite(g);
}

}  // namespace
}  // namespace osprey

int main(int argc, char** argv) {
  if (argc != 4 || (std::string(argv[3]) != "float" && std::string(argv[3]) != "int8")) {
    std::fprintf(stderr, "usage: make_squared_difference_model OUT.tflite SEED float|int8\n");
    return 2;
  }
  return osprey::op_tests::run_maker([&] {
    osprey::op_tests::write_file(
        argv[1], osprey::build(static_cast<uint32_t>(std::stoul(argv[2])), std::string(argv[3]) == "int8"));
    return 0;
  });
}
