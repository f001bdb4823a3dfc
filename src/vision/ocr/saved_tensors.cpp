// Dumping inputs and replaying outputs for the OCR models.
#include "vision/ocr/saved_tensors.h"

#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

#include "core/error.h"
#include "io/npy.h"

namespace osprey::vision::ocr {
namespace {

std::string file_name(const std::string& dir, const std::string& stage, int run, const char* kind) {
  return (std::filesystem::path(dir) / (stage + "-" + std::to_string(run) + "." + kind + ".npy")).string();
}

}  // namespace

TextModel dumping_inputs(TextModel model, const std::string& dir, const std::string& stage) {
  auto runs = std::make_shared<int>(0);
  return [model = std::move(model), dir, stage, runs](const FloatTensor& input) {
    std::filesystem::create_directories(dir);
    Shape shape;
    for (const int64_t d : input.shape) {
      OSPREY_CHECK(d >= 0 && d <= std::numeric_limits<int32_t>::max(), "{} input: dimension {} too large",
                   stage, d);
      shape.push_back(static_cast<int32_t>(d));
    }
    write_npy(file_name(dir, stage, (*runs)++, "input"), DType::kFloat32, shape, input.values.data());
    return model(input);
  };
}

TextModel replaying_outputs(const std::string& dir, const std::string& stage) {
  auto runs = std::make_shared<int>(0);
  return [dir, stage, runs](const FloatTensor&) {
    const int run = (*runs)++;
    const std::string path = file_name(dir, stage, run, "output");
    OSPREY_CHECK(std::filesystem::exists(path), "no saved output {} (run the {} model on {})", path, stage,
                 file_name(dir, stage, run, "input"));
    const NpyArray array = read_npy(path);
    OSPREY_CHECK(array.type == DType::kFloat32, "{}: need float32 values", path);
    FloatTensor output;
    for (const int32_t d : array.shape) output.shape.push_back(d);
    output.values.resize(array.data.size() / sizeof(float));
    std::memcpy(output.values.data(), array.data.data(), output.values.size() * sizeof(float));
    return output;
  };
}

}  // namespace osprey::vision::ocr
