// The bytes of a .tflite model: a read-only memory mapping of the file (or a
// buffer handed in), kept alive as long as constant tensors point into it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace osprey {

class ModelFile {
 public:
  // Throws osprey::Error when the file cannot be opened or read.
  static std::unique_ptr<ModelFile> open(const std::string& path);
  static std::unique_ptr<ModelFile> from_bytes(std::vector<uint8_t> bytes, std::string label);
  ~ModelFile();
  ModelFile(const ModelFile&) = delete;
  ModelFile& operator=(const ModelFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // How messages name the model (its path).
  const std::string& label() const { return label_; }

 private:
  ModelFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;  // non-null when data_ is an mmap of a file
  std::vector<uint8_t> owned_;
  std::string label_;
};

}  // namespace osprey
