// NumPy .npy files (format 1.0-3.0, little-endian, C order): how `osprey run`
// takes inputs and gives outputs, so they can be made and checked with NumPy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"

namespace osprey {

struct NpyArray {
  DType type = DType::kFloat32;
  Shape shape;
  std::vector<uint8_t> data;
};

// Throws osprey::Error naming the file and what is wrong with it.
NpyArray read_npy(const std::string& path);
NpyArray parse_npy(const uint8_t* bytes, size_t size);
void write_npy(const std::string& path, DType type, const Shape& shape, const void* data);

}  // namespace osprey
