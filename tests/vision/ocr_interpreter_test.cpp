// The OCR models on osprey's Interpreter: NCHW inputs reach an NHWC model
// transposed, one interpreter is prepared per input shape, and a model of
// another shape or an .onnx file without the importer is a one-line error.
#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "support/model_builder.h"
#include "vision/ocr/interpreter_text_model.h"

namespace osprey::vision::ocr {
namespace {

// input [1,2,3,3] (NHWC) -> RELU -> output.
std::vector<uint8_t> relu_model() {
  osprey::testing::ModelSpec spec;
  spec.op_codes = {19 /* RELU */};
  for (const char* name : {"in", "out"}) {
    osprey::testing::TensorSpec tensor;
    tensor.shape = {1, 2, 3, 3};
    tensor.name = name;
    spec.tensors.push_back(tensor);
  }
  osprey::testing::OpSpec relu;
  relu.inputs = {0};
  relu.outputs = {1};
  spec.ops = {relu};
  spec.inputs = {0};
  spec.outputs = {1};
  return osprey::testing::build_model(spec);
}

TEST(OcrInterpreterModel, TransposesNchwInputsAndCachesByShape) {
  int loads = 0;
  const InterpreterLoader loader = [&loads](const std::string& path, const std::vector<int64_t>&) {
    ++loads;
    return Interpreter::from_buffer(relu_model(), path);
  };
  const TextModel model = interpreter_text_model("relu.tflite", loader);
  // NCHW [1,3,2,3]: value = (c * 100 + y * 10 + x), negative for channel 1.
  FloatTensor input{{1, 3, 2, 3}, {}};
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 2; ++y) {
      for (int x = 0; x < 3; ++x)
        input.values.push_back(static_cast<float>((c == 1 ? -1 : 1) * (c * 100 + y * 10 + x)));
    }
  }
  const FloatTensor out = model(input);
  EXPECT_EQ(out.shape, (std::vector<int64_t>{1, 2, 3, 3}));
  ASSERT_EQ(out.values.size(), 18u);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 3; ++x) {
      for (int c = 0; c < 3; ++c) {
        const float expected = c == 1 ? 0.0f : static_cast<float>(c * 100 + y * 10 + x);
        EXPECT_EQ(out.values[static_cast<size_t>((y * 3 + x) * 3 + c)], expected) << y << x << c;
      }
    }
  }
  model(input);
  EXPECT_EQ(loads, 1);
  EXPECT_THROW(model(FloatTensor{{1, 3, 4, 4}, std::vector<float>(48, 0.0f)}), Error);
  EXPECT_EQ(loads, 2);
}

TEST(OcrInterpreterModel, OnnxNeedsTheImporter) {
  const InterpreterOptions options;
  const TextModel model = interpreter_text_model("det.onnx", default_interpreter_loader(options));
  EXPECT_THROW(model(FloatTensor{{1, 3, 32, 32}, std::vector<float>(3 * 32 * 32, 0.0f)}), Error);
}

}  // namespace
}  // namespace osprey::vision::ocr
