// A tensor of the graph: its description plus where its bytes live.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"

namespace osprey {

// real = scale * (q - zero_point); one entry per tensor, or one per slice
// along `axis` for per-channel quantization.
struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t axis = 0;

  bool empty() const { return scale.empty(); }
  bool per_channel() const { return scale.size() > 1; }
};

// Sparse storage of a constant tensor (TFLite's SparsityParameters); the
// tensor's shape stays the dense shape and its bytes hold only the values.
struct SparseDimension {
  bool sparse = false;  // CSR-compressed (true) or dense
  int32_t dense_size = 0;
  std::vector<int32_t> segments;
  std::vector<int32_t> indices;
};

struct Sparsity {
  std::vector<int32_t> traversal_order;
  std::vector<int32_t> block_map;
  std::vector<SparseDimension> dims;
  size_t value_bytes = 0;  // size of the stored values
};

struct Tensor {
  std::string name;
  DType type = DType::kFloat32;
  Shape shape;
  Quantization quant;
  std::shared_ptr<const Sparsity> sparsity;  // null for dense tensors

  // Constant tensors have their bytes from the model file or from load-time
  // folding; all others point into the runtime's arena once it is planned.
  bool is_constant = false;
  uint8_t* data = nullptr;

  int64_t num_elements() const { return osprey::num_elements(shape); }
  size_t num_bytes() const { return static_cast<size_t>(num_elements()) * dtype_size(type); }
  int rank() const { return static_cast<int>(shape.size()); }
  int32_t dim(int i) const { return shape[static_cast<size_t>(i)]; }

  template <typename T>
  T* data_as() {
    return reinterpret_cast<T*>(data);
  }
  template <typename T>
  const T* data_as() const {
    return reinterpret_cast<const T*>(data);
  }
};

}  // namespace osprey
