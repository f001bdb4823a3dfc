// Synthetic test pictures and file encoders for the vision tests.
#include "vision/test_images.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <jpeglib.h>

#include "vision/model_metadata.h"

namespace osprey::vision::testing {

Image quadrant_image(int width, int height) {
  Image image(width, height, 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.at(x, y);
      const bool green = x < 8 && y < 8;
      p[0] = green ? 0 : (x < width / 2 ? 255 : 0);
      p[1] = green ? 255 : 0;
      p[2] = green ? 0 : (x < width / 2 ? 0 : 255);
    }
  }
  return image;
}

Image gradient_image(int width, int height, int channels) {
  Image image(width, height, channels);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.at(x, y);
      for (int c = 0; c < channels; ++c) p[c] = static_cast<uint8_t>((x * 7 + y * 3 + c * 60) & 0xFF);
    }
  }
  return image;
}

std::vector<uint8_t> exif_block(int orientation, bool big_endian, bool with_header) {
  std::vector<uint8_t> b;
  if (with_header) b = {'E', 'x', 'i', 'f', 0, 0};
  auto u16 = [&](unsigned v) {
    if (big_endian) {
      b.push_back(static_cast<uint8_t>(v >> 8));
      b.push_back(static_cast<uint8_t>(v));
    } else {
      b.push_back(static_cast<uint8_t>(v));
      b.push_back(static_cast<uint8_t>(v >> 8));
    }
  };
  auto u32 = [&](unsigned v) {
    if (big_endian) {
      u16(v >> 16);
      u16(v & 0xFFFF);
    } else {
      u16(v & 0xFFFF);
      u16(v >> 16);
    }
  };
  b.push_back(big_endian ? 'M' : 'I');
  b.push_back(big_endian ? 'M' : 'I');
  u16(42);
  u32(8);       // IFD0 right after the header
  u16(1);       // one entry
  u16(0x0112);  // Orientation
  u16(3);       // SHORT
  u32(1);       // one value
  u16(static_cast<unsigned>(orientation));
  u16(0);  // value padding to 4 bytes
  u32(0);  // no next IFD
  return b;
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality, const std::vector<uint8_t>& app1,
                                 bool progressive) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr err{};
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = image.channels;
  cinfo.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  if (!app1.empty()) {
    jpeg_write_marker(&cinfo, JPEG_APP0 + 1, app1.data(), static_cast<unsigned int>(app1.size()));
  }
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(image.row(static_cast<int>(cinfo.next_scanline)));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  std::free(buffer);
  return bytes;
}

namespace {
void append(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}
void no_flush(png_structp) {}
}  // namespace

std::vector<uint8_t> encode_png_with_exif(const Image& image, const std::vector<uint8_t>& tiff) {
  std::vector<uint8_t> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("test PNG encoder failed");
  }
  png_set_write_fn(png, &out, append, no_flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_eXIf_1(png, info, static_cast<png_uint_32>(tiff.size()), const_cast<png_bytep>(tiff.data()));
  png_write_info(png, info);
  for (int y = 0; y < image.height; ++y) png_write_row(png, image.row(y));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

std::string cached_file(const std::string& relative) {
  const std::string path = cache_dir() + "/" + relative;
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) ? path : std::string();
}

std::string manifest_path() {
  // tests/vision/test_images.cpp -> <source root>/zoo/models.json
  return (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "zoo" / "models.json")
      .string();
}

bool all_cached(std::initializer_list<const char*> relative) {
  for (const char* f : relative) {
    if (cached_file(f).empty()) return false;
  }
  return true;
}

Tensor float_tensor(Shape shape, std::vector<float>& storage, std::string name) {
  Tensor t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.data = reinterpret_cast<uint8_t*>(storage.data());
  return t;
}

}  // namespace osprey::vision::testing
