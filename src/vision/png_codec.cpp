// PNG decoding and encoding with libpng. libpng's errors longjmp to the
// setjmp in the one frame that owns the png_struct; only trivially
// destructible objects live in that frame, so no destructor is skipped.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "vision/image_io.h"

namespace osprey::vision {
namespace {

constexpr png_alloc_size_t kMaxChunkBytes = 64u * 1024 * 1024;

struct Context {
  std::span<const uint8_t> input;
  size_t offset = 0;
  std::vector<uint8_t>* output = nullptr;
  char message[200] = {};
};

Context* context_of(png_structp png) {
  return static_cast<Context*>(png_get_error_ptr(png));
}

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  std::snprintf(context_of(png)->message, sizeof(Context::message), "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

void read_bytes(png_structp png, png_bytep data, png_size_t length) {
  auto* ctx = static_cast<Context*>(png_get_io_ptr(png));
  if (length > ctx->input.size() - ctx->offset) png_error(png, "file is truncated");
  std::memcpy(data, ctx->input.data() + ctx->offset, length);
  ctx->offset += length;
}

void write_bytes(png_structp png, png_bytep data, png_size_t length) {
  auto* ctx = static_cast<Context*>(png_get_io_ptr(png));
  ctx->output->insert(ctx->output->end(), data, data + length);
}

void flush_nothing(png_structp) {}

bool decode(png_structp png, png_infop info, Context& ctx, DecodedImage& out, std::vector<png_bytep>& rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_user_limits(png, kMaxImageSide, kMaxImageSide);
  png_set_chunk_malloc_max(png, kMaxChunkBytes);
  png_set_read_fn(png, &ctx, read_bytes);
  png_read_info(png, info);

  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int bit_depth = 0;
  int color_type = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, nullptr, nullptr, nullptr);
  if (static_cast<int64_t>(width) * height > kMaxImagePixels) png_error(png, "image is too large");

  // Normalise every variant to 8-bit gray, RGB or RGBA.
  png_set_expand(png);  // palette -> RGB, low-bit gray -> 8 bit, tRNS -> alpha
  png_set_scale_16(png);
  if (color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);

  const int channels = png_get_channels(png, info);
  if (channels != 1 && channels != 3 && channels != 4) png_error(png, "unsupported channel layout");
  Image& image = out.image;
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.channels = channels;
  if (png_get_rowbytes(png, info) != image.stride()) png_error(png, "unexpected row size");
  image.pixels.resize(image.stride() * height);
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = image.row(static_cast<int>(y));
  png_read_image(png, rows.data());
  // Reads to IEND so a truncated file fails and eXIf after IDAT is seen.
  png_read_end(png, info);

  png_uint_32 exif_size = 0;
  png_bytep exif = nullptr;
  if (png_get_eXIf_1(png, info, &exif_size, &exif) != 0 && exif != nullptr) {
    out.orientation = exif_orientation({exif, exif_size});
  }
  return true;
}

bool encode(png_structp png, png_infop info, const Image& image, std::vector<png_bytep>& rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  const int color_type = image.channels == 1   ? PNG_COLOR_TYPE_GRAY
                         : image.channels == 3 ? PNG_COLOR_TYPE_RGB
                                               : PNG_COLOR_TYPE_RGBA;
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 6);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

DecodedImage decode_png(std::span<const uint8_t> bytes) {
  Context ctx;
  ctx.input = bytes;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  OSPREY_CHECK(png != nullptr, "png: out of memory");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    fail("png: out of memory");
  }
  DecodedImage out;
  std::vector<png_bytep> rows;
  const bool ok = decode(png, info, ctx, out, rows);
  png_destroy_read_struct(&png, &info, nullptr);
  OSPREY_CHECK(ok, "png: {}", ctx.message);
  return out;
}

std::vector<uint8_t> encode_png(const Image& image) {
  check_image_size(image.width, image.height, image.channels);
  OSPREY_CHECK(image.pixels.size() == image.stride() * static_cast<size_t>(image.height),
               "png: pixel buffer does not match {}x{}x{}", image.width, image.height, image.channels);
  std::vector<uint8_t> output;
  Context ctx;
  ctx.output = &output;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  OSPREY_CHECK(png != nullptr, "png: out of memory");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    fail("png: out of memory");
  }
  png_set_write_fn(png, &ctx, write_bytes, flush_nothing);
  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  for (int y = 0; y < image.height; ++y) rows[static_cast<size_t>(y)] = const_cast<png_bytep>(image.row(y));
  const bool ok = encode(png, info, image, rows);
  png_destroy_write_struct(&png, &info);
  OSPREY_CHECK(ok, "png: {}", ctx.message);
  return output;
}

}  // namespace osprey::vision
