// Helpers for the vision tests: synthetic pictures and model outputs, and encoders that write
// JPEG (with optional EXIF) and PNG (with optional eXIf) through the real
// libraries, so decoding is tested on genuine files.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "graph/tensor.h"
#include "vision/image.h"

namespace osprey::vision::testing {

// Left half red, right half blue, top-left 8x8 corner green; big flat areas
// survive JPEG compression.
Image quadrant_image(int width, int height);
Image gradient_image(int width, int height, int channels);

// A TIFF/EXIF block holding only an orientation tag ("Exif\0\0" prefix when
// with_header). big_endian picks the "MM" byte order.
std::vector<uint8_t> exif_block(int orientation, bool big_endian, bool with_header = true);

std::vector<uint8_t> encode_jpeg(const Image& image, int quality, const std::vector<uint8_t>& app1 = {},
                                 bool progressive = false);
std::vector<uint8_t> encode_png_with_exif(const Image& image, const std::vector<uint8_t>& tiff);

// A float tensor over `storage` (which must outlive it), as a model's output.
Tensor float_tensor(Shape shape, std::vector<float>& storage, std::string name = "out");

// Where the test binary can find real models and sample photos
// ($OSPREY_CACHE, default ~/.cache/osprey); empty when absent.
std::string cached_file(const std::string& relative);
// Whether every one of `relative` is there.
bool all_cached(std::initializer_list<const char*> relative);
// The source tree's zoo/models.json.
std::string manifest_path();

}  // namespace osprey::vision::testing
