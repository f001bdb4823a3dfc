// Reference float32 kernels of the convolution family: CONV_2D, DEPTHWISE_CONV_2D,
// TRANSPOSE_CONV, MediaPipe's Convolution2DTransposeBias, FULLY_CONNECTED,
// AVERAGE_POOL_2D and MAX_POOL_2D.
//
// Each eval is a plain loop nest that visits the data, and sums the products, in
// the order of TFLite's reference_ops, so results agree with TFLite up to how the
// compiler contracts a * b + c. Everything read from the model is checked in prepare.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/ref/activation.h"
#include "kernels/ref/padding.h"

namespace osprey::ref {
namespace {

// Far beyond any real tensor; keeps element counts, flat indices and byte sizes in int64.
constexpr int64_t kMaxElements = int64_t{1} << 48;
constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();

// ---------------------------------------------------------------------------
// Checks shared by the kernels

void check_io_count(const KernelContext& ctx, int min_inputs, int max_inputs) {
  OSPREY_CHECK(ctx.num_inputs() >= min_inputs && ctx.num_inputs() <= max_inputs,
               "has {} inputs, expected {} to {}", ctx.num_inputs(), min_inputs, max_inputs);
  OSPREY_CHECK(ctx.num_outputs() == 1, "has {} outputs, expected 1", ctx.num_outputs());
}

// Positive dimensions whose product stays small enough for int64 index arithmetic.
void check_dims(const Shape& shape, std::string_view role) {
  int64_t n = 1;
  for (int32_t d : shape) {
    OSPREY_CHECK(d > 0, "{} shape {} has a dimension that is not positive", role, shape_str(shape));
    OSPREY_CHECK(n <= kMaxElements / d, "{} shape {} is too large", role, shape_str(shape));
    n *= d;
  }
}

// rank < 0 accepts any rank.
void check_float_tensor(const Tensor& t, std::string_view role, int rank) {
  OSPREY_CHECK(t.type == DType::kFloat32, "{} type {} is not supported by the float reference kernel", role,
               dtype_name(t.type));
  if (rank >= 0) OSPREY_CHECK(t.rank() == rank, "{} tensor has {} dims, expected {}", role, t.rank(), rank);
  OSPREY_CHECK(t.sparsity == nullptr, "{} tensor is sparse; it must be densified first", role);
  check_dims(t.shape, role);
}

// TFLite only requires the element count to match, so [1, C] biases pass too.
void check_bias(const Tensor& bias, int channels) {
  check_float_tensor(bias, "bias", -1);
  OSPREY_CHECK(bias.num_elements() == channels, "bias has {} elements, expected {}", bias.num_elements(),
               channels);
}

void set_output(KernelContext& ctx, const Shape& shape) {
  Tensor& out = ctx.output(0);
  OSPREY_CHECK(out.type == DType::kFloat32, "output type {} is not supported by the float reference kernel",
               dtype_name(out.type));
  check_dims(shape, "output");
  out.shape = shape;
}

// window_axis computes in int; keep all of its intermediate sums (and ours in eval,
// out * stride + tap * dilation) below INT32_MAX.
WindowAxis checked_window(int in, int filter, int stride, int dilation, Padding padding,
                          std::string_view axis) {
  OSPREY_CHECK(stride > 0, "{} stride {} must be positive", axis, stride);
  OSPREY_CHECK(dilation > 0, "{} dilation {} must be positive", axis, dilation);
  const int64_t effective = int64_t{filter - 1} * dilation + 1;
  OSPREY_CHECK(int64_t{in} + effective + stride <= kIntMax,
               "{} window (filter {}, dilation {}, stride {}) is too large", axis, filter, dilation, stride);
  return window_axis(in, filter, stride, dilation, padding);
}

// ---------------------------------------------------------------------------
// NHWC indexing

struct Dims4 {
  int n = 0, h = 0, w = 0, c = 0;
};

Dims4 dims4(const Tensor& t) {
  return {t.dim(0), t.dim(1), t.dim(2), t.dim(3)};
}
Shape shape_of(const Dims4& d) {
  return {d.n, d.h, d.w, d.c};
}

inline int64_t offset(const Dims4& d, int b, int y, int x, int c) {
  return ((int64_t{b} * d.h + y) * d.w + x) * d.c + c;
}

inline bool inside(int y, int x, const Dims4& d) {
  return y >= 0 && y < d.h && x >= 0 && x < d.w;
}

// ---------------------------------------------------------------------------
// CONV_2D: input [N,H,W,Cin], filter [Cout,KH,KW,Cin/groups] (OHWI), bias [Cout].

class Conv2D final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_io_count(ctx, 2, 3);
    const auto& opt = ctx.options<Conv2DOptions>();
    const Tensor& input = ctx.input(0);
    const Tensor& filter = ctx.input(1);
    check_float_tensor(input, "input", 4);
    check_float_tensor(filter, "filter", 4);
    in_ = dims4(input);
    filter_ = dims4(filter);
    // Grouped convolution: each group of Cout / groups filters sees Cin / groups channels.
    OSPREY_CHECK(in_.c % filter_.c == 0, "input has {} channels, not a multiple of the filter's {}", in_.c,
                 filter_.c);
    groups_ = in_.c / filter_.c;
    OSPREY_CHECK(filter_.n % groups_ == 0, "{} output channels do not divide into {} groups", filter_.n,
                 groups_);
    has_bias_ = ctx.has_input(2);
    if (has_bias_) check_bias(ctx.input(2), filter_.n);

    const WindowAxis y =
        checked_window(in_.h, filter_.h, opt.stride_h, opt.dilation_h, opt.padding, "height");
    const WindowAxis x = checked_window(in_.w, filter_.w, opt.stride_w, opt.dilation_w, opt.padding, "width");
    stride_h_ = opt.stride_h;
    stride_w_ = opt.stride_w;
    dilation_h_ = opt.dilation_h;
    dilation_w_ = opt.dilation_w;
    pad_h_ = y.pad_before;
    pad_w_ = x.pad_before;
    range_ = activation_range(opt.activation);
    out_ = {in_.n, y.out, x.out, filter_.n};
    set_output(ctx, shape_of(out_));
  }

  void eval(KernelContext& ctx) override {
    const float* input = ctx.input(0).data_as<float>();
    const float* filter = ctx.input(1).data_as<float>();
    const float* bias = has_bias_ ? ctx.input(2).data_as<float>() : nullptr;
    float* output = ctx.output(0).data_as<float>();
    const int filters_per_group = out_.c / groups_;
    for (int b = 0; b < out_.n; ++b) {
      for (int oy = 0; oy < out_.h; ++oy) {
        for (int ox = 0; ox < out_.w; ++ox) {
          for (int oc = 0; oc < out_.c; ++oc) {
            const int first_in_channel = (oc / filters_per_group) * filter_.c;
            const int in_y0 = oy * stride_h_ - pad_h_;
            const int in_x0 = ox * stride_w_ - pad_w_;
            float total = 0.0f;
            for (int ky = 0; ky < filter_.h; ++ky) {
              const int in_y = in_y0 + ky * dilation_h_;
              for (int kx = 0; kx < filter_.w; ++kx) {
                const int in_x = in_x0 + kx * dilation_w_;
                if (!inside(in_y, in_x, in_)) continue;  // zero padding
                for (int ic = 0; ic < filter_.c; ++ic) {
                  total += input[offset(in_, b, in_y, in_x, first_in_channel + ic)] *
                           filter[offset(filter_, oc, ky, kx, ic)];
                }
              }
            }
            const float bias_value = bias ? bias[oc] : 0.0f;
            output[offset(out_, b, oy, ox, oc)] = range_.clamp(total + bias_value);
          }
        }
      }
    }
  }

 private:
  Dims4 in_, filter_, out_;
  int groups_ = 1;
  int stride_h_ = 1, stride_w_ = 1, dilation_h_ = 1, dilation_w_ = 1, pad_h_ = 0, pad_w_ = 0;
  bool has_bias_ = false;
  FloatRange range_;
};

// ---------------------------------------------------------------------------
// DEPTHWISE_CONV_2D: filter [1,KH,KW,Cin*multiplier]; output channel ic * multiplier + m
// reads input channel ic only.

class DepthwiseConv2D final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_io_count(ctx, 2, 3);
    const auto& opt = ctx.options<DepthwiseConv2DOptions>();
    const Tensor& input = ctx.input(0);
    const Tensor& filter = ctx.input(1);
    check_float_tensor(input, "input", 4);
    check_float_tensor(filter, "filter", 4);
    in_ = dims4(input);
    filter_ = dims4(filter);
    OSPREY_CHECK(filter_.n == 1, "depthwise filter has {} in dim 0, expected 1", filter_.n);
    // Old converters wrote inconsistent depth_multiplier options; like TFLite, trust the shapes.
    OSPREY_CHECK(filter_.c % in_.c == 0, "filter has {} channels, not a multiple of the input's {}",
                 filter_.c, in_.c);
    multiplier_ = filter_.c / in_.c;
    has_bias_ = ctx.has_input(2);
    if (has_bias_) check_bias(ctx.input(2), filter_.c);

    const WindowAxis y =
        checked_window(in_.h, filter_.h, opt.stride_h, opt.dilation_h, opt.padding, "height");
    const WindowAxis x = checked_window(in_.w, filter_.w, opt.stride_w, opt.dilation_w, opt.padding, "width");
    stride_h_ = opt.stride_h;
    stride_w_ = opt.stride_w;
    dilation_h_ = opt.dilation_h;
    dilation_w_ = opt.dilation_w;
    pad_h_ = y.pad_before;
    pad_w_ = x.pad_before;
    range_ = activation_range(opt.activation);
    out_ = {in_.n, y.out, x.out, filter_.c};
    set_output(ctx, shape_of(out_));
  }

  void eval(KernelContext& ctx) override {
    const float* input = ctx.input(0).data_as<float>();
    const float* filter = ctx.input(1).data_as<float>();
    const float* bias = has_bias_ ? ctx.input(2).data_as<float>() : nullptr;
    float* output = ctx.output(0).data_as<float>();
    for (int b = 0; b < out_.n; ++b) {
      for (int oy = 0; oy < out_.h; ++oy) {
        for (int ox = 0; ox < out_.w; ++ox) {
          for (int ic = 0; ic < in_.c; ++ic) {
            for (int m = 0; m < multiplier_; ++m) {
              const int oc = ic * multiplier_ + m;
              const int in_y0 = oy * stride_h_ - pad_h_;
              const int in_x0 = ox * stride_w_ - pad_w_;
              float total = 0.0f;
              for (int ky = 0; ky < filter_.h; ++ky) {
                for (int kx = 0; kx < filter_.w; ++kx) {
                  const int in_y = in_y0 + ky * dilation_h_;
                  const int in_x = in_x0 + kx * dilation_w_;
                  if (!inside(in_y, in_x, in_)) continue;  // zero padding
                  total += input[offset(in_, b, in_y, in_x, ic)] * filter[offset(filter_, 0, ky, kx, oc)];
                }
              }
              const float bias_value = bias ? bias[oc] : 0.0f;
              output[offset(out_, b, oy, ox, oc)] = range_.clamp(total + bias_value);
            }
          }
        }
      }
    }
  }

 private:
  Dims4 in_, filter_, out_;
  int multiplier_ = 1;
  int stride_h_ = 1, stride_w_ = 1, dilation_h_ = 1, dilation_w_ = 1, pad_h_ = 0, pad_w_ = 0;
  bool has_bias_ = false;
  FloatRange range_;
};

// ---------------------------------------------------------------------------
// Transposed convolution, shared by TRANSPOSE_CONV and Convolution2DTransposeBias.

// TFLite pads a transposed conv as if it were a forward conv (dilation 1) whose
// *input* has the transposed conv's output size. This is window_axis's formula,
// written out because window_axis rejects VALID outputs smaller than the filter,
// which an explicit output_shape may ask for (TFLite then still computes a padding).
int transpose_pad_before(int out_size, int filter, int stride, Padding padding) {
  const int64_t forward_out = padding == Padding::kSame ? (int64_t{out_size} + stride - 1) / stride
                                                        : (int64_t{out_size} + stride - filter) / stride;
  const int64_t total = std::max<int64_t>((forward_out - 1) * stride + filter - out_size, 0);
  return static_cast<int>(total / 2);
}

struct TransposeGeometry {
  Dims4 in, weights, out;  // weights are [Cout, KH, KW, Cin]
  int stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;

  // Checks what both ops share; `out` must already hold the output size.
  void prepare(int stride_height, int stride_width, Padding padding) {
    OSPREY_CHECK(weights.c == in.c, "weights have {} input channels, the input has {}", weights.c, in.c);
    OSPREY_CHECK(stride_height > 0 && stride_width > 0, "strides {}x{} must be positive", stride_height,
                 stride_width);
    // Keeps in_y * stride + ky (and the same for x) below INT32_MAX in eval.
    OSPREY_CHECK(int64_t{in.h - 1} * stride_height + weights.h <= kIntMax &&
                     int64_t{in.w - 1} * stride_width + weights.w <= kIntMax,
                 "strides {}x{} are too large for input {}x{}", stride_height, stride_width, in.h, in.w);
    stride_h = stride_height;
    stride_w = stride_width;
    pad_h = transpose_pad_before(out.h, weights.h, stride_h, padding);
    pad_w = transpose_pad_before(out.w, weights.w, stride_w, padding);
  }

  // TFLite's "scatter" formulation: every input pixel adds input * weight to each
  // output pixel its window covers; taps that fall outside the output are dropped.
  // Accumulates into `output`, which the caller has initialised.
  void scatter(const float* input, const float* weights_data, float* output) const {
    for (int b = 0; b < in.n; ++b) {
      for (int iy = 0; iy < in.h; ++iy) {
        for (int ix = 0; ix < in.w; ++ix) {
          for (int ic = 0; ic < in.c; ++ic) {
            const int out_y0 = iy * stride_h - pad_h;
            const int out_x0 = ix * stride_w - pad_w;
            const float value = input[offset(in, b, iy, ix, ic)];
            for (int ky = 0; ky < weights.h; ++ky) {
              for (int kx = 0; kx < weights.w; ++kx) {
                const int oy = out_y0 + ky;
                const int ox = out_x0 + kx;
                if (!inside(oy, ox, out)) continue;
                for (int oc = 0; oc < out.c; ++oc) {
                  output[offset(out, b, oy, ox, oc)] += value * weights_data[offset(weights, oc, ky, kx, ic)];
                }
              }
            }
          }
        }
      }
    }
  }
};

// TRANSPOSE_CONV: inputs output_shape (int32 [4], constant), weights [Cout,KH,KW,Cin],
// input [N,H,W,Cin], optional bias [Cout].
class TransposeConv final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_io_count(ctx, 3, 4);
    const auto& opt = ctx.options<TransposeConvOptions>();
    const Tensor& output_shape = ctx.input(0);
    const Tensor& weights = ctx.input(1);
    const Tensor& input = ctx.input(2);
    OSPREY_CHECK(output_shape.type == DType::kInt32, "output_shape type {} is not int32",
                 dtype_name(output_shape.type));
    OSPREY_CHECK(output_shape.rank() == 1 && output_shape.dim(0) == 4,
                 "output_shape has shape {}, expected [4]", shape_str(output_shape.shape));
    OSPREY_CHECK(output_shape.is_constant && output_shape.data != nullptr,
                 "dynamic output shape is not supported");
    check_float_tensor(weights, "weights", 4);
    check_float_tensor(input, "input", 4);
    g_.in = dims4(input);
    g_.weights = dims4(weights);

    const int32_t* s = output_shape.data_as<int32_t>();
    const Shape out_shape(s, s + 4);
    check_dims(out_shape, "output_shape");
    g_.out = {out_shape[0], out_shape[1], out_shape[2], out_shape[3]};
    OSPREY_CHECK(g_.out.n == g_.in.n, "output_shape batch {} differs from the input's {}", g_.out.n, g_.in.n);
    OSPREY_CHECK(g_.out.c == g_.weights.n, "output_shape has {} channels, the weights {}", g_.out.c,
                 g_.weights.n);
    has_bias_ = ctx.has_input(3);
    if (has_bias_) check_bias(ctx.input(3), g_.weights.n);
    g_.prepare(opt.stride_h, opt.stride_w, opt.padding);
    range_ = activation_range(opt.activation);
    set_output(ctx, out_shape);
  }

  void eval(KernelContext& ctx) override {
    const float* weights = ctx.input(1).data_as<float>();
    const float* input = ctx.input(2).data_as<float>();
    const float* bias = has_bias_ ? ctx.input(3).data_as<float>() : nullptr;
    float* output = ctx.output(0).data_as<float>();
    const int64_t pixels = int64_t{g_.out.n} * g_.out.h * g_.out.w;
    std::fill(output, output + pixels * g_.out.c, 0.0f);
    g_.scatter(input, weights, output);
    // Bias and activation come after all contributions, as in TFLite.
    for (int64_t p = 0; p < pixels; ++p) {
      for (int oc = 0; oc < g_.out.c; ++oc) {
        float& v = output[p * g_.out.c + oc];
        if (bias) v += bias[oc];
        v = range_.clamp(v);
      }
    }
  }

 private:
  TransposeGeometry g_;
  bool has_bias_ = false;
  FloatRange range_;
};

// MediaPipe's Convolution2DTransposeBias: inputs input [N,H,W,Cin], weights
// [Cout,KH,KW,Cin], bias [Cout]; custom_options is TfLiteTransposeConvParams as raw
// little-endian int32s {padding (1 SAME, 2 VALID), stride_width, stride_height}.
// No activation. The output size follows MediaPipe's kernel and XNNPACK's TF-SAME
// deconvolution: (in - 1) * stride + K - P, where P = max(0, K - 1 - (in - 1) % stride)
// for SAME and 0 for VALID. For SAME that is in * stride only when in % stride == 0
// and K >= stride; an odd input at stride 2 gives 2 * in - 1.
class TransposeConvBias final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_io_count(ctx, 3, 3);
    // The op registry parsed MediaPipe's custom options bytes at load.
    const auto& o = ctx.options<TransposeConvOptions>();
    const Padding padding = o.padding;
    const int stride_w = o.stride_w, stride_h = o.stride_h;

    const Tensor& input = ctx.input(0);
    const Tensor& weights = ctx.input(1);
    check_float_tensor(input, "input", 4);
    check_float_tensor(weights, "weights", 4);
    check_bias(ctx.input(2), weights.dim(0));
    g_.in = dims4(input);
    g_.weights = dims4(weights);
    OSPREY_CHECK(stride_h > 0 && stride_w > 0, "strides {}x{} must be positive", stride_h, stride_w);
    const auto out_size = [&](int in, int filter, int stride) {
      const int64_t trimmed = padding == Padding::kSame ? std::max(0, filter - 1 - (in - 1) % stride) : 0;
      const int64_t size = int64_t{in - 1} * stride + filter - trimmed;
      OSPREY_CHECK(size <= kIntMax, "output size {} is too large", size);
      return static_cast<int>(size);
    };
    g_.out = {g_.in.n, out_size(g_.in.h, g_.weights.h, stride_h), out_size(g_.in.w, g_.weights.w, stride_w),
              g_.weights.n};
    g_.prepare(stride_h, stride_w, padding);
    set_output(ctx, shape_of(g_.out));
  }

  void eval(KernelContext& ctx) override {
    const float* input = ctx.input(0).data_as<float>();
    const float* weights = ctx.input(1).data_as<float>();
    const float* bias = ctx.input(2).data_as<float>();
    float* output = ctx.output(0).data_as<float>();
    // MediaPipe starts every output pixel at the bias and accumulates onto it.
    const int64_t pixels = int64_t{g_.out.n} * g_.out.h * g_.out.w;
    for (int64_t p = 0; p < pixels; ++p) std::copy(bias, bias + g_.out.c, output + p * g_.out.c);
    g_.scatter(input, weights, output);
  }

 private:
  TransposeGeometry g_;
};

// ---------------------------------------------------------------------------
// FULLY_CONNECTED: input [..., K] seen as [rows, K], weights [Nout, K], bias [Nout].

class FullyConnected final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_io_count(ctx, 2, 3);
    const auto& opt = ctx.options<FullyConnectedOptions>();
    const Tensor& input = ctx.input(0);
    const Tensor& weights = ctx.input(1);
    check_float_tensor(input, "input", -1);
    check_float_tensor(weights, "weights", 2);
    OSPREY_CHECK(input.rank() >= 1, "input is a scalar, expected at least 1 dim");
    units_ = weights.dim(0);
    depth_ = weights.dim(1);
    OSPREY_CHECK(input.num_elements() % depth_ == 0,
                 "input has {} elements, not a multiple of the weights' {}", input.num_elements(), depth_);
    rows_ = input.num_elements() / depth_;
    has_bias_ = ctx.has_input(2);
    if (has_bias_) check_bias(ctx.input(2), units_);
    range_ = activation_range(opt.activation);

    Shape out_shape;
    if (opt.keep_num_dims) {
      OSPREY_CHECK(input.shape.back() == depth_, "input's last dim {} differs from the weights' {}",
                   input.shape.back(), depth_);
      out_shape = input.shape;
      out_shape.back() = units_;
    } else {
      OSPREY_CHECK(rows_ <= kIntMax, "input has too many rows ({})", rows_);
      out_shape = {static_cast<int32_t>(rows_), units_};
    }
    set_output(ctx, out_shape);
  }

  void eval(KernelContext& ctx) override {
    const float* input = ctx.input(0).data_as<float>();
    const float* weights = ctx.input(1).data_as<float>();
    const float* bias = has_bias_ ? ctx.input(2).data_as<float>() : nullptr;
    float* output = ctx.output(0).data_as<float>();
    for (int64_t r = 0; r < rows_; ++r) {
      for (int u = 0; u < units_; ++u) {
        float total = 0.0f;
        for (int d = 0; d < depth_; ++d) total += input[r * depth_ + d] * weights[int64_t{u} * depth_ + d];
        const float bias_value = bias ? bias[u] : 0.0f;
        output[r * units_ + u] = range_.clamp(total + bias_value);
      }
    }
  }

 private:
  int64_t rows_ = 0;
  int units_ = 0, depth_ = 0;
  bool has_bias_ = false;
  FloatRange range_;
};

// ---------------------------------------------------------------------------
// AVERAGE_POOL_2D and MAX_POOL_2D. Padding is never read: the window is clipped to
// the input, so the average divides by the number of elements actually inside it.

enum class PoolKind { kAverage, kMax };

template <PoolKind kKind>
class Pool2D final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_io_count(ctx, 1, 1);
    const auto& opt = ctx.options<Pool2DOptions>();
    const Tensor& input = ctx.input(0);
    check_float_tensor(input, "input", 4);
    in_ = dims4(input);
    OSPREY_CHECK(opt.filter_h > 0 && opt.filter_w > 0, "filter {}x{} must be positive", opt.filter_h,
                 opt.filter_w);
    const WindowAxis y = checked_window(in_.h, opt.filter_h, opt.stride_h, 1, opt.padding, "height");
    const WindowAxis x = checked_window(in_.w, opt.filter_w, opt.stride_w, 1, opt.padding, "width");
    filter_h_ = opt.filter_h;
    filter_w_ = opt.filter_w;
    stride_h_ = opt.stride_h;
    stride_w_ = opt.stride_w;
    pad_h_ = y.pad_before;
    pad_w_ = x.pad_before;
    range_ = activation_range(opt.activation);
    out_ = {in_.n, y.out, x.out, in_.c};
    set_output(ctx, shape_of(out_));
  }

  void eval(KernelContext& ctx) override {
    const float* input = ctx.input(0).data_as<float>();
    float* output = ctx.output(0).data_as<float>();
    for (int b = 0; b < out_.n; ++b) {
      for (int oy = 0; oy < out_.h; ++oy) {
        for (int ox = 0; ox < out_.w; ++ox) {
          for (int c = 0; c < out_.c; ++c) {
            const int in_y0 = oy * stride_h_ - pad_h_;
            const int in_x0 = ox * stride_w_ - pad_w_;
            // The window clipped to the input; never empty, as window_axis pads by less than a window.
            const int ky_begin = std::max(0, -in_y0), ky_end = std::min(filter_h_, in_.h - in_y0);
            const int kx_begin = std::max(0, -in_x0), kx_end = std::min(filter_w_, in_.w - in_x0);
            float result = 0.0f;
            if constexpr (kKind == PoolKind::kAverage) {
              float total = 0.0f;
              for (int ky = ky_begin; ky < ky_end; ++ky) {
                for (int kx = kx_begin; kx < kx_end; ++kx)
                  total += input[offset(in_, b, in_y0 + ky, in_x0 + kx, c)];
              }
              const int64_t count = int64_t{ky_end - ky_begin} * (kx_end - kx_begin);
              result = total / static_cast<float>(count);
            } else {
              result = std::numeric_limits<float>::lowest();
              for (int ky = ky_begin; ky < ky_end; ++ky) {
                for (int kx = kx_begin; kx < kx_end; ++kx) {
                  result = std::max(result, input[offset(in_, b, in_y0 + ky, in_x0 + kx, c)]);
                }
              }
            }
            output[offset(out_, b, oy, ox, c)] = range_.clamp(result);
          }
        }
      }
    }
  }

 private:
  Dims4 in_, out_;
  int filter_h_ = 1, filter_w_ = 1, stride_h_ = 1, stride_w_ = 1, pad_h_ = 0, pad_w_ = 0;
  FloatRange range_;
};

}  // namespace

// Factories the op registry (src/ops) names.
std::unique_ptr<Kernel> conv2d_kernel() {
  return std::make_unique<Conv2D>();
}
std::unique_ptr<Kernel> depthwise_conv2d_kernel() {
  return std::make_unique<DepthwiseConv2D>();
}
std::unique_ptr<Kernel> transpose_conv_kernel() {
  return std::make_unique<TransposeConv>();
}
std::unique_ptr<Kernel> transpose_conv_bias_kernel() {
  return std::make_unique<TransposeConvBias>();
}
std::unique_ptr<Kernel> fully_connected_kernel() {
  return std::make_unique<FullyConnected>();
}
std::unique_ptr<Kernel> average_pool_kernel() {
  return std::make_unique<Pool2D<PoolKind::kAverage>>();
}
std::unique_ptr<Kernel> max_pool_kernel() {
  return std::make_unique<Pool2D<PoolKind::kMax>>();
}

}  // namespace osprey::ref
