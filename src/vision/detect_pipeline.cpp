// Pre- and post-processing around a detector or segmenter model.
#include "vision/detect_pipeline.h"

#include "core/error.h"
#include "vision/nms.h"

namespace osprey::vision {

InputTransform prepare_input(const Image& image, const ModelSpec& spec, Tensor& input) {
  OSPREY_CHECK(input.rank() == 4 && input.dim(1) == spec.input.height && input.dim(2) == spec.input.width &&
                   input.dim(3) == 3,
               "model '{}' has input shape {} but its metadata says {}x{} RGB", spec.name,
               shape_str(input.shape), spec.input.width, spec.input.height);
  const InputTransform transform =
      make_input_transform(image.width, image.height, spec.input.width, spec.input.height, spec.input.resize);
  fill_input_tensor(render_input(image, transform), spec.input.normalization, input);
  return transform;
}

std::vector<float> tensor_values(const Tensor& tensor) {
  OSPREY_CHECK(tensor.data != nullptr, "tensor '{}' has no data", tensor.name);
  const auto count = static_cast<size_t>(tensor.num_elements());
  std::vector<float> values(count);
  switch (tensor.type) {
    case DType::kFloat32: {
      const float* data = tensor.data_as<float>();
      std::copy(data, data + count, values.begin());
      return values;
    }
    case DType::kUInt8:
    case DType::kInt8: {
      OSPREY_CHECK(!tensor.quant.empty() && !tensor.quant.per_channel(),
                   "tensor '{}' is {} without per-tensor quantization", tensor.name, dtype_name(tensor.type));
      const float scale = tensor.quant.scale[0];
      const auto zero_point = tensor.quant.zero_point.empty() ? 0 : tensor.quant.zero_point[0];
      for (size_t i = 0; i < count; ++i) {
        const int64_t q =
            tensor.type == DType::kUInt8 ? tensor.data_as<uint8_t>()[i] : tensor.data_as<int8_t>()[i];
        values[i] = scale * static_cast<float>(q - zero_point);
      }
      return values;
    }
    default:
      fail("tensor '{}' has type {}, expected float32, uint8 or int8", tensor.name, dtype_name(tensor.type));
  }
}

std::vector<Detection> postprocess_detections(const ModelSpec& spec, std::span<const Anchor> anchors,
                                              const Tensor& boxes, const Tensor& scores,
                                              const InputTransform& transform,
                                              std::optional<float> min_score) {
  OSPREY_CHECK(spec.detection.has_value(), "model '{}' ({}) has no detection head", spec.name, spec.task);
  const DetectionHead& head = *spec.detection;
  BoxDecoderOptions options = head.decoder;
  if (min_score) options.min_score_thresh = *min_score;
  std::vector<Detection> found = decode_boxes(tensor_values(boxes), tensor_values(scores), anchors, options);
  found = non_max_suppression(std::move(found), head.nms);
  for (Detection& d : found) d = to_image_coordinates(d, transform);
  return found;
}

}  // namespace osprey::vision
