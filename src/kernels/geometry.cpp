#include "kernels/geometry.h"

#include <algorithm>

#include "core/error.h"
#include "core/limits.h"

namespace osprey::geometry {
namespace {

using limits::kMaxDimension;

bool within_dimension(int64_t v) {
  return v > 0 && v <= kMaxDimension;
}

// The checks and formula of window_axis; on failure `why` says what is wrong.
std::optional<WindowAxis> compute_window(int64_t in, int64_t filter, int64_t stride, int64_t dilation,
                                         Padding padding, std::string_view axis, std::string* why) {
  const auto reject = [&](std::string message) -> std::optional<WindowAxis> {
    if (why) *why = std::move(message);
    return std::nullopt;
  };
  if (stride <= 0) return reject(fmt::format("{} stride {} must be positive", axis, stride));
  if (dilation <= 0) return reject(fmt::format("{} dilation {} must be positive", axis, dilation));
  if (in <= 0 || filter <= 0) return reject(fmt::format("window of size {} over {} elements", filter, in));
  // in + dilated window + stride bounds every coordinate the kernels compute.
  int64_t effective = 0, reach = 0;
  if (__builtin_mul_overflow(filter - 1, dilation, &effective) ||
      __builtin_add_overflow(effective, 1, &effective) || __builtin_add_overflow(in, effective, &reach) ||
      __builtin_add_overflow(reach, stride, &reach) || reach > kMaxDimension) {
    return reject(fmt::format("{} window (filter {}, dilation {}, stride {}) is too large", axis, filter,
                              dilation, stride));
  }
  WindowAxis w;
  int64_t out = 0, total = 0;
  if (padding == Padding::kSame) {
    out = (in + stride - 1) / stride;
    total = std::max<int64_t>((out - 1) * stride + effective - in, 0);
  } else {
    if (in < effective) {
      return reject(
          fmt::format("window {} (dilated) is larger than input {} with VALID padding", effective, in));
    }
    out = (in - effective + stride) / stride;
  }
  w.out = static_cast<int>(out);
  w.pad_before = static_cast<int>(total / 2);
  w.pad_after = static_cast<int>(total - total / 2);
  return w;
}

}  // namespace

Dims4 Dims4::of(const Shape& shape) {
  OSPREY_CHECK(shape.size() == 4, "shape {} is not rank 4", shape_str(shape));
  return {shape[0], shape[1], shape[2], shape[3]};
}

WindowAxis window_axis(int64_t in, int64_t filter, int64_t stride, int64_t dilation, Padding padding,
                       std::string_view axis) {
  std::string why;
  const std::optional<WindowAxis> w = compute_window(in, filter, stride, dilation, padding, axis, &why);
  if (!w) throw Error(why);
  return *w;
}

std::optional<WindowAxis> try_window_axis(int64_t in, int64_t filter, int64_t stride, int64_t dilation,
                                          Padding padding) {
  return compute_window(in, filter, stride, dilation, padding, "", nullptr);
}

std::optional<int64_t> transpose_pad_before(int64_t out, int64_t filter, int64_t stride, Padding padding) {
  // With every value in int32 range the products below stay far inside int64.
  if (!within_dimension(out) || !within_dimension(filter) || !within_dimension(stride)) return std::nullopt;
  const int64_t forward_out =
      padding == Padding::kSame ? (out + stride - 1) / stride : (out + stride - filter) / stride;
  const int64_t total = std::max<int64_t>((forward_out - 1) * stride + filter - out, 0);
  return total / 2;
}

int transpose_bias_output_size(int64_t in, int64_t filter, int64_t stride, Padding padding) {
  OSPREY_CHECK(within_dimension(in) && within_dimension(filter) && within_dimension(stride),
               "transposed convolution of {} elements with filter {} and stride {} is not valid", in, filter,
               stride);
  const int64_t trimmed =
      padding == Padding::kSame ? std::max<int64_t>(0, filter - 1 - (in - 1) % stride) : 0;
  const int64_t size = (in - 1) * stride + filter - trimmed;
  OSPREY_CHECK(size <= kMaxDimension, "output size {} is too large", size);
  return static_cast<int>(size);
}

std::optional<DeconvAxis> try_deconv_axis(int64_t in, int64_t filter, int64_t stride, int64_t out,
                                          Padding padding) {
  if (!within_dimension(in)) return std::nullopt;
  const std::optional<int64_t> before = transpose_pad_before(out, filter, stride, padding);
  if (!before) return std::nullopt;
  const int64_t full = (in - 1) * stride + filter - *before;  // elements from `before` on
  if (full >= out) return DeconvAxis{static_cast<uint32_t>(*before), static_cast<uint32_t>(full - out), 0};
  if (out - full >= stride) return std::nullopt;  // XNNPACK's adjustment must stay below the stride
  return DeconvAxis{static_cast<uint32_t>(*before), 0, static_cast<uint32_t>(out - full)};
}

// What conv and pool geometries share: the strides and the leading padding of each axis.
template <typename Geometry, typename Options>
void set_strides_and_padding(Geometry& g, const Options& options, const WindowAxis& y, const WindowAxis& x) {
  g.stride_h = options.stride_h;
  g.stride_w = options.stride_w;
  g.pad_h = y.pad_before;
  g.pad_w = x.pad_before;
}

// The output size and padding of both conv flavours; `out.c` is set by the caller.
template <typename Options>
void set_conv_windows(ConvGeometry& g, const Options& options) {
  const WindowAxis y =
      window_axis(g.in.h, g.filter.h, options.stride_h, options.dilation_h, options.padding, "height");
  const WindowAxis x =
      window_axis(g.in.w, g.filter.w, options.stride_w, options.dilation_w, options.padding, "width");
  set_strides_and_padding(g, options, y, x);
  g.dilation_h = options.dilation_h;
  g.dilation_w = options.dilation_w;
  g.out = {g.in.n, y.out, x.out, 0};
}

ConvGeometry conv_geometry(const Shape& input, const Shape& filter, const Conv2DOptions& options) {
  ConvGeometry g;
  g.in = Dims4::of(input);
  g.filter = Dims4::of(filter);
  OSPREY_CHECK(g.in.c % g.filter.c == 0, "input has {} channels, not a multiple of the filter's {}", g.in.c,
               g.filter.c);
  const int groups = g.in.c / g.filter.c;
  OSPREY_CHECK(g.filter.n % groups == 0, "{} output channels do not divide into {} groups", g.filter.n,
               groups);
  set_conv_windows(g, options);
  g.out.c = g.filter.n;
  g.group_channels = g.filter.c;
  g.filters_per_group = g.filter.n / groups;
  g.filter_oc_step = int64_t{g.filter.h} * g.filter.w * g.filter.c;
  g.filter_tap_step = g.filter.c;
  return g;
}

ConvGeometry conv_geometry(const Shape& input, const Shape& filter, const DepthwiseConv2DOptions& options) {
  ConvGeometry g;
  g.in = Dims4::of(input);
  g.filter = Dims4::of(filter);
  OSPREY_CHECK(g.filter.n == 1, "depthwise filter has {} in dim 0, expected 1", g.filter.n);
  OSPREY_CHECK(g.filter.c % g.in.c == 0, "filter has {} channels, not a multiple of the input's {}",
               g.filter.c, g.in.c);
  set_conv_windows(g, options);
  g.out.c = g.filter.c;
  g.group_channels = 1;
  g.filters_per_group = g.filter.c / g.in.c;
  g.filter_oc_step = 1;
  g.filter_tap_step = g.filter.c;
  return g;
}

PoolGeometry pool_geometry(const Shape& input, const Pool2DOptions& options) {
  PoolGeometry g;
  g.in = Dims4::of(input);
  OSPREY_CHECK(options.filter_h > 0 && options.filter_w > 0, "filter {}x{} must be positive",
               options.filter_h, options.filter_w);
  const WindowAxis y = window_axis(g.in.h, options.filter_h, options.stride_h, 1, options.padding, "height");
  const WindowAxis x = window_axis(g.in.w, options.filter_w, options.stride_w, 1, options.padding, "width");
  g.filter_h = options.filter_h;
  g.filter_w = options.filter_w;
  set_strides_and_padding(g, options, y, x);
  g.out = {g.in.n, y.out, x.out, g.in.c};
  return g;
}

TransposeConvGeometry transpose_conv_geometry(const Dims4& in, const Dims4& weights, const Dims4& out,
                                              int stride_h, int stride_w, Padding padding) {
  OSPREY_CHECK(weights.c == in.c, "weights have {} input channels, the input has {}", weights.c, in.c);
  OSPREY_CHECK(stride_h > 0 && stride_w > 0, "strides {}x{} must be positive", stride_h, stride_w);
  // Keeps in_y * stride + ky (and the same for x) within int in the scatter loop.
  OSPREY_CHECK(int64_t{in.h - 1} * stride_h + weights.h <= kMaxDimension &&
                   int64_t{in.w - 1} * stride_w + weights.w <= kMaxDimension,
               "strides {}x{} are too large for input {}x{}", stride_h, stride_w, in.h, in.w);
  const std::optional<int64_t> pad_h = transpose_pad_before(out.h, weights.h, stride_h, padding);
  const std::optional<int64_t> pad_w = transpose_pad_before(out.w, weights.w, stride_w, padding);
  OSPREY_CHECK(pad_h && pad_w, "output size {}x{} is not valid for a transposed convolution", out.h, out.w);
  return {in, weights, out, stride_h, stride_w, static_cast<int>(*pad_h), static_cast<int>(*pad_w)};
}

}  // namespace osprey::geometry
