// Reading and writing image files (JPEG and PNG) from untrusted bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vision/image.h"

namespace osprey::vision {

struct DecodeOptions {
  // Rotate/flip as the EXIF orientation tag says (what viewers show).
  bool apply_exif_orientation = true;
};

// Decodes a JPEG or PNG held in memory into gray, RGB or RGBA pixels.
// Throws osprey::Error (one line, naming the format) on any malformed input.
Image decode_image(std::span<const uint8_t> bytes, const DecodeOptions& options = {});
Image read_image(const std::string& path, const DecodeOptions& options = {});

std::vector<uint8_t> encode_png(const Image& image);
void write_png(const std::string& path, const Image& image);

// Lower-level pieces, used by decode_image and by tests.
struct DecodedImage {
  Image image;
  int orientation = 1;  // EXIF orientation found in the file (1 if none)
};
DecodedImage decode_jpeg(std::span<const uint8_t> bytes);
DecodedImage decode_png(std::span<const uint8_t> bytes);
// Orientation (1..8) from a TIFF/EXIF block ("Exif\0\0" header optional);
// 1 when the block has no usable orientation tag.
int exif_orientation(std::span<const uint8_t> exif);

std::vector<uint8_t> read_file_bytes(const std::string& path);
void write_file_bytes(const std::string& path, std::span<const uint8_t> bytes);

}  // namespace osprey::vision
