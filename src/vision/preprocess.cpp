// Resizing and colour conversion go through libyuv on its "ARGB" format,
// which is B,G,R,A bytes in memory (a little-endian 0xAARRGGBB word).
#include "vision/preprocess.h"

#include <libyuv.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace osprey::vision {
namespace {

int stride_of(const Image& image) {
  return static_cast<int>(image.stride());
}

// R,G,B / R,G,B,A / gray bytes to libyuv ARGB (B,G,R,A bytes).
std::vector<uint8_t> to_argb(const Image& image) {
  std::vector<uint8_t> argb(static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 4);
  const int dst_stride = image.width * 4;
  int rc = 0;
  switch (image.channels) {
    // libyuv's "RAW" is R,G,B in memory; its "ABGR" is R,G,B,A in memory.
    case 3:
      rc = libyuv::RAWToARGB(image.pixels.data(), stride_of(image), argb.data(), dst_stride, image.width,
                             image.height);
      break;
    case 4:
      rc = libyuv::ABGRToARGB(image.pixels.data(), stride_of(image), argb.data(), dst_stride, image.width,
                              image.height);
      break;
    case 1:
      rc = libyuv::J400ToARGB(image.pixels.data(), stride_of(image), argb.data(), dst_stride, image.width,
                              image.height);
      break;
    default: fail("image: unsupported channel count {}", image.channels);
  }
  OSPREY_CHECK(rc == 0, "libyuv: colour conversion of a {}x{} image failed", image.width, image.height);
  return argb;
}

Image from_argb(const uint8_t* argb, int width, int height, int channels) {
  Image out(width, height, channels);
  const int src_stride = width * 4;
  int rc = 0;
  switch (channels) {
    case 3: rc = libyuv::ARGBToRAW(argb, src_stride, out.pixels.data(), stride_of(out), width, height); break;
    case 4:
      rc = libyuv::ARGBToABGR(argb, src_stride, out.pixels.data(), stride_of(out), width, height);
      break;
    case 1:
      rc = libyuv::ARGBToJ400(argb, src_stride, out.pixels.data(), stride_of(out), width, height);
      break;
    default: fail("image: unsupported channel count {}", channels);
  }
  OSPREY_CHECK(rc == 0, "libyuv: colour conversion of a {}x{} image failed", width, height);
  return out;
}

void scale_argb(const uint8_t* src, int src_stride, int src_width, int src_height, uint8_t* dst,
                int dst_stride, int dst_width, int dst_height) {
  // Box filtering averages all source pixels when shrinking (no aliasing) and
  // falls back to bilinear when enlarging. At fractional factors libyuv's
  // filtered ARGB paths come out up to 2 levels dark (255 -> 253); that is far
  // below what changes a model's answer.
  const int rc = libyuv::ARGBScale(src, src_stride, src_width, src_height, dst, dst_stride, dst_width,
                                   dst_height, libyuv::kFilterBox);
  OSPREY_CHECK(rc == 0, "libyuv: scaling {}x{} to {}x{} failed", src_width, src_height, dst_width,
               dst_height);
}

}  // namespace

ResizeMode parse_resize_mode(const std::string& name) {
  if (name == "stretch") return ResizeMode::kStretch;
  if (name == "letterbox") return ResizeMode::kLetterbox;
  fail("unknown resize mode '{}' (expected stretch or letterbox)", name);
}

Point InputTransform::to_image(Point normalized) const {
  return {(normalized.x * static_cast<float>(input_width) - static_cast<float>(pad_x)) / scale_x,
          (normalized.y * static_cast<float>(input_height) - static_cast<float>(pad_y)) / scale_y};
}

Point InputTransform::to_input(Point pixel) const {
  return {(pixel.x * scale_x + static_cast<float>(pad_x)) / static_cast<float>(input_width),
          (pixel.y * scale_y + static_cast<float>(pad_y)) / static_cast<float>(input_height)};
}

InputTransform make_input_transform(int image_width, int image_height, int input_width, int input_height,
                                    ResizeMode mode) {
  OSPREY_CHECK(image_width > 0 && image_height > 0, "image: empty image ({}x{})", image_width, image_height);
  OSPREY_CHECK(input_width > 0 && input_height > 0, "model input size {}x{} is invalid", input_width,
               input_height);
  InputTransform t;
  t.image_width = image_width;
  t.image_height = image_height;
  t.input_width = input_width;
  t.input_height = input_height;
  t.content_width = input_width;
  t.content_height = input_height;
  if (mode == ResizeMode::kLetterbox) {
    const double scale = std::min(static_cast<double>(input_width) / image_width,
                                  static_cast<double>(input_height) / image_height);
    t.content_width = std::clamp(static_cast<int>(std::lround(image_width * scale)), 1, input_width);
    t.content_height = std::clamp(static_cast<int>(std::lround(image_height * scale)), 1, input_height);
    t.pad_x = (input_width - t.content_width) / 2;
    t.pad_y = (input_height - t.content_height) / 2;
  }
  // The scale of the pixels actually drawn, so rounding of the content size
  // does not shift mapped-back coordinates.
  t.scale_x = static_cast<float>(t.content_width) / static_cast<float>(image_width);
  t.scale_y = static_cast<float>(t.content_height) / static_cast<float>(image_height);
  return t;
}

Image resize_image(const Image& image, int width, int height) {
  check_image_size(image.width, image.height, image.channels);
  check_image_size(width, height, image.channels);
  const std::vector<uint8_t> src = to_argb(image);
  std::vector<uint8_t> dst(static_cast<size_t>(width) * static_cast<size_t>(height) * 4);
  scale_argb(src.data(), image.width * 4, image.width, image.height, dst.data(), width * 4, width, height);
  return from_argb(dst.data(), width, height, image.channels);
}

Image crop_image(const Image& image, int x, int y, int width, int height) {
  OSPREY_CHECK(
      x >= 0 && y >= 0 && width > 0 && height > 0 && x + width <= image.width && y + height <= image.height,
      "crop {}x{}+{}+{} is outside the {}x{} image", width, height, x, y, image.width, image.height);
  Image out(width, height, image.channels);
  for (int row = 0; row < height; ++row) {
    std::copy_n(image.at(x, y + row), out.stride(), out.row(row));
  }
  return out;
}

Image render_input(const Image& image, const InputTransform& t) {
  OSPREY_CHECK(image.width == t.image_width && image.height == t.image_height,
               "image is {}x{} but the transform was made for {}x{}", image.width, image.height,
               t.image_width, t.image_height);
  const std::vector<uint8_t> src = to_argb(image);
  // Opaque black canvas: the letterbox border (MediaPipe's BORDER_ZERO).
  std::vector<uint8_t> canvas(static_cast<size_t>(t.input_width) * static_cast<size_t>(t.input_height) * 4,
                              0);
  for (size_t i = 3; i < canvas.size(); i += 4) canvas[i] = 255;
  const int canvas_stride = t.input_width * 4;
  uint8_t* origin = canvas.data() + static_cast<size_t>(t.pad_y) * static_cast<size_t>(canvas_stride) +
                    static_cast<size_t>(t.pad_x) * 4;
  scale_argb(src.data(), image.width * 4, image.width, image.height, origin, canvas_stride, t.content_width,
             t.content_height);
  return from_argb(canvas.data(), t.input_width, t.input_height, 3);
}

void fill_input_tensor(const Image& rgb, const Normalization& norm, Tensor& tensor) {
  OSPREY_CHECK(rgb.channels == 3, "model input needs an RGB image, got {} channels", rgb.channels);
  OSPREY_CHECK(tensor.rank() == 4 && tensor.dim(0) == 1 && tensor.dim(1) == rgb.height &&
                   tensor.dim(2) == rgb.width && tensor.dim(3) == 3,
               "input tensor '{}' has shape {}, expected [1, {}, {}, 3]", tensor.name,
               shape_str(tensor.shape), rgb.height, rgb.width);
  OSPREY_CHECK(tensor.data != nullptr, "input tensor '{}' has no buffer", tensor.name);
  const size_t count = rgb.pixels.size();
  const float step = (norm.hi - norm.lo) / 255.0f;
  switch (tensor.type) {
    case DType::kFloat32: {
      float* out = tensor.data_as<float>();
      for (size_t i = 0; i < count; ++i) out[i] = norm.lo + static_cast<float>(rgb.pixels[i]) * step;
      return;
    }
    case DType::kUInt8:
    case DType::kInt8: {
      const bool is_signed = tensor.type == DType::kInt8;
      const float qmin = is_signed ? -128.0f : 0.0f;
      const float qmax = is_signed ? 127.0f : 255.0f;
      float scale = 1.0f;
      float zero_point = 0.0f;
      if (!tensor.quant.empty()) {
        scale = tensor.quant.scale[0];
        zero_point = tensor.quant.zero_point.empty() ? 0.0f : static_cast<float>(tensor.quant.zero_point[0]);
        OSPREY_CHECK(scale > 0 && std::isfinite(scale), "input tensor '{}' has quantization scale {}",
                     tensor.name, scale);
      } else {
        // Unquantized integer input: the raw pixel value is the real value.
        std::copy_n(rgb.pixels.data(), count, tensor.data);
        return;
      }
      // One lookup per byte value instead of a division per pixel.
      uint8_t table[256];
      for (int v = 0; v < 256; ++v) {
        const float real = norm.lo + static_cast<float>(v) * step;
        const float q = std::clamp(std::nearbyint(real / scale + zero_point), qmin, qmax);
        table[v] = is_signed ? static_cast<uint8_t>(static_cast<int8_t>(q)) : static_cast<uint8_t>(q);
      }
      for (size_t i = 0; i < count; ++i) tensor.data[i] = table[rgb.pixels[i]];
      return;
    }
    default:
      fail("input tensor '{}' has type {}, expected float32, uint8 or int8", tensor.name,
           dtype_name(tensor.type));
  }
}

}  // namespace osprey::vision
