#include "model/model_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace osprey {

namespace {
// flatbuffers offsets are 32-bit; TFLite caps model files at 2 GiB too.
constexpr size_t kMaxModelBytes = (size_t{1} << 31) - 2;
}  // namespace

std::unique_ptr<ModelFile> ModelFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open: {}", std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("not a regular file");
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    fail("file is empty");
  }
  if (size > kMaxModelBytes) {
    ::close(fd);
    fail("file is {} bytes, larger than the 2 GiB a .tflite model can be", size);
  }
  void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) fail("cannot map file: {}", std::strerror(errno));
  std::unique_ptr<ModelFile> file(new ModelFile());
  file->mapping_ = p;
  file->data_ = static_cast<const uint8_t*>(p);
  file->size_ = size;
  file->label_ = path;
  return file;
}

std::unique_ptr<ModelFile> ModelFile::from_bytes(std::vector<uint8_t> bytes, std::string label) {
  if (bytes.empty()) fail("model buffer is empty");
  if (bytes.size() > kMaxModelBytes) fail("model buffer is larger than 2 GiB");
  std::unique_ptr<ModelFile> file(new ModelFile());
  file->owned_ = std::move(bytes);
  file->data_ = file->owned_.data();
  file->size_ = file->owned_.size();
  file->label_ = std::move(label);
  return file;
}

ModelFile::~ModelFile() {
  if (mapping_) munmap(mapping_, size_);
}

}  // namespace osprey
