// Element types of tensors, with the numbering of the TFLite format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace osprey {

enum class DType : int8_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kInt32 = 2,
  kUInt8 = 3,
  kInt64 = 4,
  kString = 5,
  kBool = 6,
  kInt16 = 7,
  kInt8 = 9,
  kFloat64 = 10,
};

// Size of one element in bytes; 0 for types osprey cannot hold (strings, ...).
size_t dtype_size(DType type);
// Lower-case name as NumPy spells it ("float32", "uint8", ...).
std::string_view dtype_name(DType type);
// True for the element types osprey can store in a tensor.
bool dtype_known(int8_t raw);

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::kFloat32;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::kInt32;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::kUInt8;
}
template <>
constexpr DType dtype_of<int8_t>() {
  return DType::kInt8;
}
template <>
constexpr DType dtype_of<int16_t>() {
  return DType::kInt16;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::kInt64;
}
template <>
constexpr DType dtype_of<bool>() {
  return DType::kBool;
}

}  // namespace osprey
