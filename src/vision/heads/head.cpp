// The parts every head shares: output lookup and tensor dequantization.
#include "vision/heads/head.h"

#include <algorithm>

#include "core/error.h"

namespace osprey::vision {

const Tensor& ModelOutputs::at(int index) const {
  OSPREY_CHECK(index >= 0 && index < size(), "model '{}' has no output {}", model_, index);
  return *tensors_[static_cast<size_t>(index)];
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

void rethrow_naming_head(const ManifestFields& head) {
  try {
    throw;
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.starts_with(head.path())) throw;
    fail("{}: {}", head.path(), message);
  }
}

}  // namespace osprey::vision
