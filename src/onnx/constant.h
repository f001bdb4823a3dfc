// Constant values known at import time: initializers, Constant nodes and what
// constant folding computes from them. Floats are held as float, every
// integer or boolean type as int64 (shapes, indices, axes).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace osprey::onnx {

struct Constant {
  bool is_float = true;
  std::vector<int64_t> dims;
  std::vector<float> f;    // is_float
  std::vector<int64_t> i;  // !is_float

  int64_t size() const { return is_float ? static_cast<int64_t>(f.size()) : static_cast<int64_t>(i.size()); }
  double at(int64_t k) const {
    return is_float ? static_cast<double>(f[static_cast<size_t>(k)])
                    : static_cast<double>(i[static_cast<size_t>(k)]);
  }
  // The values as integers (float values must be whole numbers).
  std::vector<int64_t> ints() const;

  static Constant floats(std::vector<int64_t> dims, std::vector<float> values);
  static Constant integers(std::vector<int64_t> dims, std::vector<int64_t> values);
};

// Element count of `dims`, checked against core/limits.h (one-line error naming `what`).
int64_t checked_count(const std::vector<int64_t>& dims, const std::string& what);

// Throws unless `t`'s external data location names a file inside `model_dir`.
std::string check_external_location(const ::onnx::TensorProto& t, const std::string& model_dir);

// Reads an initializer or Constant value. External data must lie inside
// `model_dir` (empty: external data is refused). Throws osprey::Error.
Constant read_tensor(const ::onnx::TensorProto& t, const std::string& model_dir);

}  // namespace osprey::onnx
