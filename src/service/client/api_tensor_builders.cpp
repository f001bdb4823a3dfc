// C API: larodBuildTensorDims / larodBuildTensorPitches, which describe an
// image tensor (NHWC, NCHW or NV12) from its width, height, channels and row
// pitch, the way VDO reports a stream's frames.
#include <string>

#include "service/client/handles.h"

using namespace osprey::service;
using namespace osprey::service::client;

namespace {

// a * b, or false when it does not fit a size_t.
bool mul(size_t a, size_t b, size_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

bool image_layout(larodTensorLayout layout) {
  return layout == LAROD_TENSOR_LAYOUT_NHWC || layout == LAROD_TENSOR_LAYOUT_NCHW ||
         layout == LAROD_TENSOR_LAYOUT_420SP;
}

std::string layout_name(larodTensorLayout layout) {
  switch (layout) {
    case LAROD_TENSOR_LAYOUT_NHWC: return "NHWC";
    case LAROD_TENSOR_LAYOUT_NCHW: return "NCHW";
    case LAROD_TENSOR_LAYOUT_420SP: return "420SP";
    default: return std::to_string(static_cast<int>(layout));
  }
}

// The checks both builders share; false with EINVAL set.
bool check_image_args(const larodTensor* tensor, larodTensorLayout layout, size_t a, const char* a_name,
                      size_t height, size_t channels, larodError** error) {
  if (!tensor) return invalid(error, "tensor is NULL");
  if (!image_layout(layout)) {
    return invalid(error, "layout " + layout_name(layout) +
                              " has no width, height and channels (use NHWC, NCHW or "
                              "420SP)");
  }
  if (a == 0 || height == 0 || channels == 0) {
    return invalid(error, std::string(a_name) + ", height and numChannels must be positive (got " +
                              std::to_string(a) + ", " + std::to_string(height) + ", " +
                              std::to_string(channels) + ")");
  }
  if (layout == LAROD_TENSOR_LAYOUT_420SP && channels != 3) {
    return invalid(error, "a 420SP (NV12) image has 3 channels, not " + std::to_string(channels));
  }
  return true;
}

std::string overflow(const std::string& what) {
  return what + " does not fit a size_t";
}

// Bytes of one element of the tensor's data type; image data (uint8) when
// the type is not specified yet.
size_t element_size(const larodTensor* tensor) {
  const size_t size = data_type_size(static_cast<uint32_t>(tensor->data_type));
  return size ? size : 1;
}

}  // namespace

extern "C" {

bool larodBuildTensorDims(larodTensor* tensor, const larodTensorLayout layout, const size_t width,
                          const size_t height, const size_t numChannels, larodError** error) {
  return guarded(error, [&] {
    if (!check_image_args(tensor, layout, width, "width", height, numChannels, error)) return false;
    // The element count must fit, so byte sizes computed from the dims do too.
    size_t count = 0;
    if (!mul(width, height, count) || !mul(count, numChannels, count) ||
        !mul(count, element_size(tensor), count)) {
      return invalid(error, overflow("a " + std::to_string(width) + "x" + std::to_string(height) + "x" +
                                     std::to_string(numChannels) + " image"));
    }
    larodTensorDims dims{};
    switch (layout) {
      case LAROD_TENSOR_LAYOUT_NHWC: dims = {{1, height, width, numChannels}, 4}; break;
      case LAROD_TENSOR_LAYOUT_NCHW: dims = {{1, numChannels, height, width}, 4}; break;
      default: dims = {{3, height, width}, 3}; break;  // 420SP, as cpu-proc describes NV12
    }
    tensor->dims = dims;
    return true;
  });
}

bool larodBuildTensorPitches(larodTensor* tensor, const larodTensorLayout layout, const size_t pitch,
                             const size_t height, const size_t numChannels, larodError** error) {
  return guarded(error, [&] {
    if (!check_image_args(tensor, layout, pitch, "pitch", height, numChannels, error)) return false;
    const size_t elem = element_size(tensor);
    // A row must hold `width` pixels: the width of dims already built for
    // this layout, else one pixel.
    const larodTensorDims& d = tensor->dims;
    const size_t dims_len = layout == LAROD_TENSOR_LAYOUT_420SP ? 3 : 4;
    const size_t width = d.len == dims_len ? d.dims[dims_len - 1 - (layout == LAROD_TENSOR_LAYOUT_NHWC)] : 1;
    const size_t pixel = layout == LAROD_TENSOR_LAYOUT_NHWC ? numChannels : 1;
    size_t row = 0;
    if (!mul(width, pixel, row) || !mul(row, elem, row)) return invalid(error, overflow("a row's byte size"));
    if (pitch < row) {
      return invalid(error, "pitch " + std::to_string(pitch) + " is shorter than a row of " +
                                std::to_string(width) + " pixels");
    }
    size_t plane = 0;  // bytes of height rows
    if (!mul(pitch, height, plane)) return invalid(error, overflow("pitch x height"));
    larodTensorPitches p{};
    switch (layout) {
      case LAROD_TENSOR_LAYOUT_NHWC: p = {{plane, plane, pitch, numChannels * elem}, 4}; break;
      case LAROD_TENSOR_LAYOUT_NCHW: {
        size_t all = 0;
        if (!mul(plane, numChannels, all)) return invalid(error, overflow("pitch x height x numChannels"));
        p = {{all, all, plane, pitch}, 4};
        break;
      }
      default: {
        // NV12: the Y plane, then interleaved UV at half height (rounded up).
        size_t uv = 0, all = 0;
        if (!mul(pitch, height / 2 + height % 2, uv) || __builtin_add_overflow(plane, uv, &all))
          return invalid(error, overflow("the NV12 image size"));
        p = {{all, plane, pitch}, 3};
        break;
      }
    }
    tensor->pitches = p;
    return true;
  });
}

}  // extern "C"
