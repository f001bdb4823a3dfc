// Geometry of the NHWC windowed ops, shared by the float and integer reference
// kernels and the XNNPACK lowering: indexing, output size, window and padding of
// CONV_2D, DEPTHWISE_CONV_2D, the pools, TRANSPOSE_CONV and MediaPipe's
// Convolution2DTransposeBias, following TFLite.
//
// Everything is computed in checked 64-bit arithmetic from untrusted model values.
// What passes keeps every coordinate a kernel loop computes (out * stride - pad +
// tap * dilation, in * stride + tap) within limits::kMaxDimension, so the loops may
// use int. What does not pass is a one-line osprey::Error, or std::nullopt from the
// try_ functions, which callers that fall back to another kernel use.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/shape.h"
#include "graph/options.h"

namespace osprey::geometry {

// The dimensions of a rank-4 NHWC tensor (OHWI for filters).
struct Dims4 {
  int n = 0, h = 0, w = 0, c = 0;

  // `shape` must have rank 4.
  static Dims4 of(const Shape& shape);
  Shape shape() const { return {n, h, w, c}; }
  int64_t pixels() const { return int64_t{n} * h * w; }
  int64_t offset(int b, int y, int x, int ch) const { return ((int64_t{b} * h + y) * w + x) * c + ch; }
  bool inside(int y, int x) const { return y >= 0 && y < h && x >= 0 && x < w; }
};

// Output size and padding of a forward windowed op along one axis. SAME gives
// ceil(in / stride) and puts the smaller half of the padding before the data;
// VALID gives ceil((in - dilated window + 1) / stride) and no padding.
struct WindowAxis {
  int out = 0;
  int pad_before = 0;
  int pad_after = 0;
};

// Throws naming `axis` ("height", "width") when the values are not positive, the
// VALID window is larger than the input, or the window reaches past kMaxDimension.
WindowAxis window_axis(int64_t in, int64_t filter, int64_t stride, int64_t dilation, Padding padding,
                       std::string_view axis);
std::optional<WindowAxis> try_window_axis(int64_t in, int64_t filter, int64_t stride, int64_t dilation,
                                          Padding padding);

// TFLite pads a transposed conv as if it were a forward conv (dilation 1) whose
// input has the transposed conv's output size; unlike window_axis this accepts a
// VALID output smaller than the filter, which an explicit output_shape may ask for.
// Returns the padding before the data; nullopt for non-positive values or overflow.
std::optional<int64_t> transpose_pad_before(int64_t out, int64_t filter, int64_t stride, Padding padding);

// MediaPipe's Convolution2DTransposeBias output size (XNNPACK's TF-SAME deconvolution):
// (in - 1) * stride + K - P, with P = max(0, K - 1 - (in - 1) % stride) for SAME, 0 for
// VALID. Throws when a value is not positive or the size passes kMaxDimension.
int transpose_bias_output_size(int64_t in, int64_t filter, int64_t stride, Padding padding);

// Padding and adjustment XNNPACK's deconvolution needs to give `out` elements from
// `in` with TFLite's transpose-conv padding (which fixes only the padding before;
// what lies past `out` is cropped). nullopt when XNNPACK cannot express it.
struct DeconvAxis {
  uint32_t pad_before = 0, pad_after = 0, adjustment = 0;
};
std::optional<DeconvAxis> try_deconv_axis(int64_t in, int64_t filter, int64_t stride, int64_t out,
                                          Padding padding);

// ---------------------------------------------------------------------------
// Whole-op geometry, checked the same way for every element type.

// CONV_2D and DEPTHWISE_CONV_2D alike: output channel oc reads input channels
// [(oc / filters_per_group) * group_channels, + group_channels); its weights for tap
// (ky, kx) start at oc * filter_oc_step + (ky * filter.w + kx) * filter_tap_step.
// A depthwise conv is the case of one input channel per group.
struct ConvGeometry {
  Dims4 in, filter, out;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1, pad_h = 0, pad_w = 0;
  int group_channels = 1;     // input channels each filter sees
  int filters_per_group = 1;  // output channels sharing those input channels
  int64_t filter_oc_step = 0, filter_tap_step = 0;
};

// CONV_2D: input [N,H,W,Cin], filter [Cout,KH,KW,Cin/groups]; both rank 4 with positive dims.
ConvGeometry conv_geometry(const Shape& input, const Shape& filter, const Conv2DOptions& options);
// DEPTHWISE_CONV_2D: input [N,H,W,Cin], filter [1,KH,KW,Cin*multiplier]; the multiplier comes
// from the shapes, as in TFLite, since old converters wrote inconsistent depth_multiplier options.
ConvGeometry conv_geometry(const Shape& input, const Shape& filter, const DepthwiseConv2DOptions& options);

struct PoolGeometry {
  Dims4 in, out;
  int filter_h = 1, filter_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;

  // The input rows [y0, y1) and columns [x0, x1) an output pixel pools:
  // its filter window clipped to the input (padding is not counted).
  struct Window {
    int y0, y1, x0, x1;
    int64_t count() const { return int64_t{y1 - y0} * (x1 - x0); }
  };
  Window window(int oy, int ox) const {
    const int in_y0 = oy * stride_h - pad_h, in_x0 = ox * stride_w - pad_w;
    return {std::max(0, in_y0), std::min(in.h, in_y0 + filter_h), std::max(0, in_x0),
            std::min(in.w, in_x0 + filter_w)};
  }
};

// input [N,H,W,C] with positive dims.
PoolGeometry pool_geometry(const Shape& input, const Pool2DOptions& options);

struct TransposeConvGeometry {
  Dims4 in, weights, out;  // weights [Cout,KH,KW,Cin]
  int stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
};

// `out` is the output size (from output_shape, or transpose_bias_output_size).
TransposeConvGeometry transpose_conv_geometry(const Dims4& in, const Dims4& weights, const Dims4& out,
                                              int stride_h, int stride_w, Padding padding);

}  // namespace osprey::geometry
