// Writes a seeded random float model of MediaPipe's landmark custom ops
// (version 2), chained as the attention face model chains them: landmarks
// -> Landmarks2TransformMatrix -> the matrix crops a feature map
// (TransformTensorBilinear) and maps other landmarks (TransformLandmarks).
// The landmarks are the one input (the quantizer takes single-input models).
// Seeds for the model fuzzers (tests/fuzz/make_op_seeds.sh):
// LiteRT has no kernels for these ops, so no LiteRT test uses it.
//   make_landmark_ops_model OUT.tflite SEED
#include <flatbuffers/flexbuffers.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "model/writer.h"
#include "op_model_maker.h"

namespace osprey {
namespace {

Tensor float_tensor(const std::string& name, Shape shape) {
  Tensor t;
  t.name = name;
  t.type = DType::kFloat32;
  t.shape = std::move(shape);
  return t;
}

Op custom_op(const char* name, std::vector<int> inputs, int output, std::vector<uint8_t> options) {
  Op op;
  op.code = static_cast<int32_t>(OpCode::kCustom);
  op.custom_code = name;
  op.version = 2;
  op.inputs = std::move(inputs);
  op.outputs = {output};
  op.custom_options = std::move(options);
  return op;
}

std::vector<uint8_t> build(uint32_t seed) {
  std::mt19937 rng(seed);
  const auto integer = [&](int lo, int hi) {
    return lo + static_cast<int>(rng() % static_cast<uint32_t>(hi - lo + 1));
  };
  const int landmarks = integer(2, 24), height = integer(2, 12), width = integer(2, 12),
            channels = integer(1, 8);
  const int crop_h = integer(1, 8), crop_w = integer(1, 8), points = integer(1, 16), dims = integer(2, 3);

  flexbuffers::Builder m;
  m.Map([&] {
    m.Int("left_rotation_idx", integer(0, landmarks - 1));
    m.Int("right_rotation_idx", integer(0, landmarks - 1));
    m.Float("target_rotation_radians", static_cast<float>(integer(-3, 3)) * 0.5f);
    m.Int("output_height", crop_h);
    m.Int("output_width", crop_w);
    m.Float("scale_x", 0.5f + static_cast<float>(integer(0, 4)) * 0.5f);
    m.Float("scale_y", 0.5f + static_cast<float>(integer(0, 4)) * 0.5f);
    m.TypedVector("subset_idxs", [&] {
      for (int k = integer(1, landmarks); k > 0; --k) m.Int(integer(0, landmarks - 1));
    });
  });
  m.Finish();
  flexbuffers::Builder c;
  c.Map([&] {
    c.Int("output_height", crop_h);
    c.Int("output_width", crop_w);
  });
  c.Finish();

  Graph g;
  g.tensors.push_back(float_tensor("landmarks", {1, landmarks, 3}));            // 0
  g.tensors.push_back(float_tensor("features", {1, height, width, channels}));  // 1
  g.tensors.push_back(float_tensor("points", {1, points, dims}));               // 2
  g.tensors.push_back(float_tensor("matrix", {1, 4, 4}));                       // 3
  g.tensors.push_back(float_tensor("crop", {1, crop_h, crop_w, channels}));     // 4
  g.tensors.push_back(float_tensor("mapped_points", {1, points, dims}));        // 5
  g.ops.push_back(custom_op("Landmarks2TransformMatrix", {0}, 3, m.GetBuffer()));
  g.ops.push_back(custom_op("TransformTensorBilinear", {1, 3}, 4, c.GetBuffer()));
  g.ops.push_back(custom_op("TransformLandmarks", {2, 3}, 5, {}));
  // The feature map and the points are constants: one input, as the quantizer takes.
  std::uniform_real_distribution<float> value(-4, 4);
  for (int t : {1, 2}) {
    Tensor& constant = g.tensors[static_cast<size_t>(t)];
    auto* data = reinterpret_cast<float*>(g.allocate_constant(constant));
    constant.is_constant = true;
    for (int64_t i = 0; i < constant.num_elements(); ++i) data[i] = value(rng);
  }
  g.inputs = {0};
  g.outputs = {4, 5};
  return write_tflite(g);
}

}  // namespace
}  // namespace osprey

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_landmark_ops_model OUT.tflite SEED\n");
    return 2;
  }
  return osprey::op_tests::run_maker([&] {
    osprey::op_tests::write_file(argv[1], osprey::build(static_cast<uint32_t>(std::stoul(argv[2]))));
    return 0;
  });
}
