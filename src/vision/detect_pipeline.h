// The model-independent halves of detection and segmentation: image ->
// input tensor, output tensors -> results in image pixels. detector.h runs
// them around an Interpreter.
#pragma once

#include <optional>
#include <vector>

#include "graph/tensor.h"
#include "vision/anchors.h"
#include "vision/detection.h"
#include "vision/model_metadata.h"

namespace osprey::vision {

// Fits the image into the model input as the spec says and writes the
// normalised pixels into `input`. Returns the mapping back to the image.
InputTransform prepare_input(const Image& image, const ModelSpec& spec, Tensor& input);

// Tensor values as floats: float32 copied, uint8/int8 dequantized.
std::vector<float> tensor_values(const Tensor& tensor);

// Decode + NMS, mapped to image pixels. min_score overrides the spec's
// min_score_thresh when set.
std::vector<Detection> postprocess_detections(const ModelSpec& spec, std::span<const Anchor> anchors,
                                              const Tensor& boxes, const Tensor& scores,
                                              const InputTransform& transform,
                                              std::optional<float> min_score = std::nullopt);

}  // namespace osprey::vision
