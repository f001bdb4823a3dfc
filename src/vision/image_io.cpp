// Format sniffing and file access around the JPEG and PNG codecs.
#include "vision/image_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace osprey::vision {
namespace {

bool starts_with(std::span<const uint8_t> bytes, std::initializer_list<uint8_t> magic) {
  if (bytes.size() < magic.size()) return false;
  return std::equal(magic.begin(), magic.end(), bytes.begin());
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Files bigger than this are not images we want to decode.
constexpr long kMaxImageFileBytes = 512L * 1024 * 1024;

}  // namespace

Image decode_image(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  DecodedImage decoded;
  if (starts_with(bytes, {0xFF, 0xD8, 0xFF})) {
    decoded = decode_jpeg(bytes);
  } else if (starts_with(bytes, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) {
    decoded = decode_png(bytes);
  } else {
    fail("image: not a JPEG or PNG file ({} bytes)", bytes.size());
  }
  if (options.apply_exif_orientation && decoded.orientation != 1) {
    return apply_orientation(decoded.image, decoded.orientation);
  }
  return std::move(decoded.image);
}

Image read_image(const std::string& path, const DecodeOptions& options) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  try {
    return decode_image(bytes, options);
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
}

void write_png(const std::string& path, const Image& image) {
  write_file_bytes(path, encode_png(image));
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"));
  OSPREY_CHECK(file != nullptr, "{}: cannot open: {}", path, std::strerror(errno));
  OSPREY_CHECK(std::fseek(file.get(), 0, SEEK_END) == 0, "{}: cannot seek", path);
  const long size = std::ftell(file.get());
  OSPREY_CHECK(size >= 0, "{}: cannot tell file size", path);
  OSPREY_CHECK(size <= kMaxImageFileBytes, "{}: file too large ({} bytes)", path, size);
  std::rewind(file.get());
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  OSPREY_CHECK(std::fread(bytes.data(), 1, bytes.size(), file.get()) == bytes.size(), "{}: read failed",
               path);
  return bytes;
}

void write_file_bytes(const std::string& path, std::span<const uint8_t> bytes) {
  File file(std::fopen(path.c_str(), "wb"));
  OSPREY_CHECK(file != nullptr, "{}: cannot create: {}", path, std::strerror(errno));
  OSPREY_CHECK(std::fwrite(bytes.data(), 1, bytes.size(), file.get()) == bytes.size(), "{}: write failed",
               path);
  OSPREY_CHECK(std::fflush(file.get()) == 0, "{}: write failed: {}", path, std::strerror(errno));
}

}  // namespace osprey::vision
