// Integer reference kernels of the convolution family, after TFLite's
// reference_integer_ops (int8: ConvPerChannel, DepthwiseConvPerChannel,
// TransposeConv, FullyConnected) and reference_ops (uint8, per tensor):
//
//   acc = sum (w - w_zp) * (x - x_zp)   in int32, + int32 bias
//   out = clamp(MultiplyByQuantizedMultiplier(acc, M[c]) + out_zp)
//   M[c] = in_scale * w_scale[c] / out_scale
//
// int8 weights are symmetric (zero point 0) and may be per output channel;
// uint8 weights are per tensor with a zero point. For int8 the multiplier is
// computed in double from the float scales (PopulateConvolutionQuantizationParams);
// for uint8 the scale product is taken in float first (GetQuantizedConvolutionMultipler).
// With the LiteRT arithmetic (fixed_point.h) the accumulator is requantized as
// XNNPACK does: float(acc) * (in_scale * w_scale[c] / out_scale in float),
// rounded half to even.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/ref/padding.h"
#include "kernels/ref/quantized/common.h"

namespace osprey::ref::quantized {
namespace {

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

// Requantization parameters shared by the kernels of this file.
struct Requant {
  DType type = DType::kInt8;
  int32_t input_offset = 0;                      // -input zero point
  int32_t weight_offset = 0;                     // -weight zero point (uint8 only)
  int32_t output_offset = 0;                     // output zero point
  std::vector<QuantizedMultiplier> multipliers;  // one per output channel
  std::vector<float> fp32_scales;                // the same, as XNNPACK computes them
  QuantizedRange range;
  quant::Arithmetic mode = quant::Arithmetic::kLiteRT;

  // Checks input/weights/output types and computes the per-channel multipliers.
  void prepare(const Tensor& input, const Tensor& weights, const Tensor& output, int channels, int axis,
               Activation activation) {
    type = input.type;
    mode = quant::arithmetic();
    const TensorParams in = activation_params(input, "input", input.type);
    const TensorParams out = activation_params(output, "output", input.type);
    OSPREY_CHECK(weights.is_constant && weights.data != nullptr, "weights must be constant");
    OSPREY_CHECK(weights.sparsity == nullptr, "weights are sparse; they must be densified first");
    if (type == DType::kInt8) {
      OSPREY_CHECK(weights.type == DType::kInt8, "int8 input needs int8 weights, not {}",
                   dtype_name(weights.type));
    } else {
      OSPREY_CHECK(weights.type == DType::kUInt8, "uint8 input needs uint8 weights, not {}",
                   dtype_name(weights.type));
      OSPREY_CHECK(!weights.quant.per_channel(), "uint8 weights must be quantized per tensor");
    }
    const std::vector<float> scales = weight_scales(weights, channels, axis, "weights");
    input_offset = -in.zero_point;
    output_offset = out.zero_point;
    weight_offset = 0;
    if (type == DType::kUInt8) {
      const int64_t zp = weights.quant.zero_point.empty() ? 0 : weights.quant.zero_point[0];
      OSPREY_CHECK(zp >= 0 && zp <= 255, "uint8 weights have zero point {}", zp);
      weight_offset = -static_cast<int32_t>(zp);
    }
    multipliers.clear();
    fp32_scales.clear();
    for (int c = 0; c < channels; ++c) {
      fp32_scales.push_back(in.scale * scales[static_cast<size_t>(c)] / out.scale);
      double real = 0;
      if (type == DType::kInt8) {
        real = static_cast<double>(in.scale) * static_cast<double>(scales[static_cast<size_t>(c)]) /
               static_cast<double>(out.scale);
      } else {
        real =
            static_cast<double>(in.scale * scales[static_cast<size_t>(c)]) / static_cast<double>(out.scale);
      }
      multipliers.push_back(quant::quantize_multiplier(real));
    }
    range = activation_range(activation, output);
  }

  int32_t finish(int64_t acc, int channel) const {
    // The accumulator is int32 in TFLite; a real model never leaves that range.
    const int32_t acc32 = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(acc)));
    if (mode == quant::Arithmetic::kLiteRT) {
      return quant::requantize_fp32(acc32, fp32_scales[static_cast<size_t>(channel)], output_offset,
                                    range.min, range.max);
    }
    return range.clamp(
        quant::multiply_by_quantized_multiplier(acc32, multipliers[static_cast<size_t>(channel)], mode) +
        output_offset);
  }
};

void check_count(const KernelContext& ctx, int lo, int hi) {
  OSPREY_CHECK(ctx.num_inputs() >= lo && ctx.num_inputs() <= hi, "has {} inputs, expected {} to {}",
               ctx.num_inputs(), lo, hi);
  OSPREY_CHECK(ctx.num_outputs() == 1, "has {} outputs, expected 1", ctx.num_outputs());
}

// ---------------------------------------------------------------- CONV_2D

class Conv2D final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_count(ctx, 2, 3);
    const auto& opt = ctx.options<Conv2DOptions>();
    const Tensor& input = ctx.input(0);
    const Tensor& filter = ctx.input(1);
    check_shape(input, "input", 4);
    check_shape(filter, "filter", 4);
    in_ = dims4(input);
    filter_ = dims4(filter);
    OSPREY_CHECK(in_.c % filter_.c == 0, "input has {} channels, not a multiple of the filter's {}", in_.c,
                 filter_.c);
    groups_ = in_.c / filter_.c;
    OSPREY_CHECK(filter_.n % groups_ == 0, "{} output channels do not divide into {} groups", filter_.n,
                 groups_);
    bias_ = bias_data(ctx, 2, filter_.n);
    const WindowAxis y = window_axis(in_.h, filter_.h, opt.stride_h, opt.dilation_h, opt.padding);
    const WindowAxis x = window_axis(in_.w, filter_.w, opt.stride_w, opt.dilation_w, opt.padding);
    opt_ = opt;
    pad_h_ = y.pad_before;
    pad_w_ = x.pad_before;
    out_ = {in_.n, y.out, x.out, filter_.n};
    ctx.output(0).shape = shape_of(out_);
    rq_.prepare(input, filter, ctx.output(0), filter_.n, 0, opt.activation);
  }

  void eval(KernelContext& ctx) override {
    if (rq_.type == DType::kInt8) {
      run(ctx.input(0).data_as<int8_t>(), ctx.input(1).data_as<int8_t>(), ctx.output(0).data_as<int8_t>());
    } else {
      run(ctx.input(0).data_as<uint8_t>(), ctx.input(1).data_as<uint8_t>(), ctx.output(0).data_as<uint8_t>());
    }
  }

 private:
  template <typename T>
  void run(const T* input, const T* filter, T* output) const {
    const int per_group = out_.c / groups_;
    for (int b = 0; b < out_.n; ++b) {
      for (int oy = 0; oy < out_.h; ++oy) {
        const int in_y0 = oy * opt_.stride_h - pad_h_;
        for (int ox = 0; ox < out_.w; ++ox) {
          const int in_x0 = ox * opt_.stride_w - pad_w_;
          for (int oc = 0; oc < out_.c; ++oc) {
            const int first_ic = (oc / per_group) * filter_.c;
            int64_t acc = 0;
            for (int ky = 0; ky < filter_.h; ++ky) {
              const int in_y = in_y0 + ky * opt_.dilation_h;
              for (int kx = 0; kx < filter_.w; ++kx) {
                const int in_x = in_x0 + kx * opt_.dilation_w;
                if (!inside(in_y, in_x, in_)) continue;
                const T* px = input + offset(in_, b, in_y, in_x, first_ic);
                const T* pw = filter + offset(filter_, oc, ky, kx, 0);
                for (int ic = 0; ic < filter_.c; ++ic) {
                  acc += (int32_t{pw[ic]} + rq_.weight_offset) * (int32_t{px[ic]} + rq_.input_offset);
                }
              }
            }
            if (bias_) acc += bias_[oc];
            output[offset(out_, b, oy, ox, oc)] = static_cast<T>(rq_.finish(acc, oc));
          }
        }
      }
    }
  }

  Dims4 in_, filter_, out_;
  int groups_ = 1;
  Conv2DOptions opt_;
  int pad_h_ = 0, pad_w_ = 0;
  const int32_t* bias_ = nullptr;
  Requant rq_;
};

// ---------------------------------------------------------------- DEPTHWISE_CONV_2D

class DepthwiseConv2D final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_count(ctx, 2, 3);
    const auto& opt = ctx.options<DepthwiseConv2DOptions>();
    const Tensor& input = ctx.input(0);
    const Tensor& filter = ctx.input(1);
    check_shape(input, "input", 4);
    check_shape(filter, "filter", 4);
    in_ = dims4(input);
    filter_ = dims4(filter);
    OSPREY_CHECK(filter_.n == 1, "depthwise filter has {} in dim 0, expected 1", filter_.n);
    OSPREY_CHECK(filter_.c % in_.c == 0, "filter has {} channels, not a multiple of the input's {}",
                 filter_.c, in_.c);
    multiplier_ = filter_.c / in_.c;
    bias_ = bias_data(ctx, 2, filter_.c);
    const WindowAxis y = window_axis(in_.h, filter_.h, opt.stride_h, opt.dilation_h, opt.padding);
    const WindowAxis x = window_axis(in_.w, filter_.w, opt.stride_w, opt.dilation_w, opt.padding);
    opt_ = opt;
    pad_h_ = y.pad_before;
    pad_w_ = x.pad_before;
    out_ = {in_.n, y.out, x.out, filter_.c};
    ctx.output(0).shape = shape_of(out_);
    rq_.prepare(input, filter, ctx.output(0), filter_.c, 3, opt.activation);
  }

  void eval(KernelContext& ctx) override {
    if (rq_.type == DType::kInt8) {
      run(ctx.input(0).data_as<int8_t>(), ctx.input(1).data_as<int8_t>(), ctx.output(0).data_as<int8_t>());
    } else {
      run(ctx.input(0).data_as<uint8_t>(), ctx.input(1).data_as<uint8_t>(), ctx.output(0).data_as<uint8_t>());
    }
  }

 private:
  template <typename T>
  void run(const T* input, const T* filter, T* output) const {
    for (int b = 0; b < out_.n; ++b) {
      for (int oy = 0; oy < out_.h; ++oy) {
        const int in_y0 = oy * opt_.stride_h - pad_h_;
        for (int ox = 0; ox < out_.w; ++ox) {
          const int in_x0 = ox * opt_.stride_w - pad_w_;
          for (int ic = 0; ic < in_.c; ++ic) {
            for (int m = 0; m < multiplier_; ++m) {
              const int oc = ic * multiplier_ + m;
              int64_t acc = 0;
              for (int ky = 0; ky < filter_.h; ++ky) {
                const int in_y = in_y0 + ky * opt_.dilation_h;
                for (int kx = 0; kx < filter_.w; ++kx) {
                  const int in_x = in_x0 + kx * opt_.dilation_w;
                  if (!inside(in_y, in_x, in_)) continue;
                  acc += (int32_t{filter[offset(filter_, 0, ky, kx, oc)]} + rq_.weight_offset) *
                         (int32_t{input[offset(in_, b, in_y, in_x, ic)]} + rq_.input_offset);
                }
              }
              if (bias_) acc += bias_[oc];
              output[offset(out_, b, oy, ox, oc)] = static_cast<T>(rq_.finish(acc, oc));
            }
          }
        }
      }
    }
  }

  Dims4 in_, filter_, out_;
  int multiplier_ = 1;
  DepthwiseConv2DOptions opt_;
  int pad_h_ = 0, pad_w_ = 0;
  const int32_t* bias_ = nullptr;
  Requant rq_;
};

// ---------------------------------------------------------------- TRANSPOSE_CONV

// TFLite pads a transposed conv as if it were a forward conv whose input has
// the transposed conv's output size.
int transpose_pad_before(int out_size, int filter, int stride, Padding padding) {
  const int64_t forward_out = padding == Padding::kSame ? (int64_t{out_size} + stride - 1) / stride
                                                        : (int64_t{out_size} + stride - filter) / stride;
  const int64_t total = std::max<int64_t>((forward_out - 1) * stride + filter - out_size, 0);
  return static_cast<int>(total / 2);
}

// Inputs: output_shape (int32 [4], constant), weights [Cout,KH,KW,Cin], input, optional int32 bias.
class TransposeConv final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_count(ctx, 3, 4);
    const auto& opt = ctx.options<TransposeConvOptions>();
    const Tensor& shape = ctx.input(0);
    const Tensor& weights = ctx.input(1);
    const Tensor& input = ctx.input(2);
    OSPREY_CHECK(shape.type == DType::kInt32 && shape.rank() == 1 && shape.dim(0) == 4,
                 "output_shape must be int32 [4]");
    OSPREY_CHECK(shape.is_constant && shape.data != nullptr, "dynamic output shape is not supported");
    check_shape(weights, "weights", 4);
    check_shape(input, "input", 4);
    in_ = dims4(input);
    w_ = dims4(weights);
    const int32_t* s = shape.data_as<int32_t>();
    out_ = {s[0], s[1], s[2], s[3]};
    check_shape(ctx.input(0), "output_shape", 1);
    OSPREY_CHECK(out_.n == in_.n && out_.c == w_.n && out_.h > 0 && out_.w > 0,
                 "output_shape [{}, {}, {}, {}] does not fit input {} and weights {}", s[0], s[1], s[2], s[3],
                 shape_str(input.shape), shape_str(weights.shape));
    OSPREY_CHECK(w_.c == in_.c, "weights have {} input channels, the input has {}", w_.c, in_.c);
    OSPREY_CHECK(opt.stride_h > 0 && opt.stride_w > 0, "strides must be positive");
    stride_h_ = opt.stride_h;
    stride_w_ = opt.stride_w;
    pad_h_ = transpose_pad_before(out_.h, w_.h, stride_h_, opt.padding);
    pad_w_ = transpose_pad_before(out_.w, w_.w, stride_w_, opt.padding);
    bias_ = bias_data(ctx, 3, w_.n);
    ctx.output(0).shape = shape_of(out_);
    rq_.prepare(input, weights, ctx.output(0), w_.n, 0, opt.activation);
    scratch_.assign(static_cast<size_t>(int64_t{out_.n} * out_.h * out_.w * out_.c), 0);
  }

  void eval(KernelContext& ctx) override {
    if (rq_.type == DType::kInt8) {
      run(ctx.input(2).data_as<int8_t>(), ctx.input(1).data_as<int8_t>(), ctx.output(0).data_as<int8_t>());
    } else {
      run(ctx.input(2).data_as<uint8_t>(), ctx.input(1).data_as<uint8_t>(), ctx.output(0).data_as<uint8_t>());
    }
  }

 private:
  template <typename T>
  void run(const T* input, const T* weights, T* output) {
    std::fill(scratch_.begin(), scratch_.end(), 0);
    for (int b = 0; b < in_.n; ++b) {
      for (int iy = 0; iy < in_.h; ++iy) {
        for (int ix = 0; ix < in_.w; ++ix) {
          const int oy0 = iy * stride_h_ - pad_h_;
          const int ox0 = ix * stride_w_ - pad_w_;
          for (int ic = 0; ic < in_.c; ++ic) {
            const int32_t x = int32_t{input[offset(in_, b, iy, ix, ic)]} + rq_.input_offset;
            for (int ky = 0; ky < w_.h; ++ky) {
              for (int kx = 0; kx < w_.w; ++kx) {
                const int oy = oy0 + ky, ox = ox0 + kx;
                if (!inside(oy, ox, out_)) continue;
                for (int oc = 0; oc < out_.c; ++oc) {
                  scratch_[static_cast<size_t>(offset(out_, b, oy, ox, oc))] +=
                      x * (int32_t{weights[offset(w_, oc, ky, kx, ic)]} + rq_.weight_offset);
                }
              }
            }
          }
        }
      }
    }
    const int64_t pixels = int64_t{out_.n} * out_.h * out_.w;
    for (int64_t p = 0; p < pixels; ++p) {
      for (int oc = 0; oc < out_.c; ++oc) {
        int64_t acc = scratch_[static_cast<size_t>(p * out_.c + oc)];
        if (bias_) acc += bias_[oc];
        output[p * out_.c + oc] = static_cast<T>(rq_.finish(acc, oc));
      }
    }
  }

  Dims4 in_, w_, out_;
  int stride_h_ = 1, stride_w_ = 1, pad_h_ = 0, pad_w_ = 0;
  const int32_t* bias_ = nullptr;
  Requant rq_;
  std::vector<int64_t> scratch_;
};

// ---------------------------------------------------------------- FULLY_CONNECTED

class FullyConnected final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_count(ctx, 2, 3);
    const auto& opt = ctx.options<FullyConnectedOptions>();
    const Tensor& input = ctx.input(0);
    const Tensor& weights = ctx.input(1);
    check_shape(input, "input");
    check_shape(weights, "weights", 2);
    OSPREY_CHECK(input.rank() >= 1, "input is a scalar");
    units_ = weights.dim(0);
    depth_ = weights.dim(1);
    OSPREY_CHECK(input.num_elements() % depth_ == 0,
                 "input has {} elements, not a multiple of the weights' {}", input.num_elements(), depth_);
    rows_ = input.num_elements() / depth_;
    bias_ = bias_data(ctx, 2, units_);
    Shape out_shape;
    if (opt.keep_num_dims) {
      OSPREY_CHECK(input.shape.back() == depth_, "input's last dim {} differs from the weights' {}",
                   input.shape.back(), depth_);
      out_shape = input.shape;
      out_shape.back() = units_;
    } else {
      out_shape = {static_cast<int32_t>(rows_), units_};
    }
    ctx.output(0).shape = out_shape;
    // TFLite's FULLY_CONNECTED takes one multiplier (per-channel weights are a newer, optional path).
    rq_.prepare(input, weights, ctx.output(0), units_, 0, opt.activation);
    if (input.type == DType::kInt8 && !weights.quant.per_channel()) {
      // GetQuantizedConvolutionMultipler: float product, double division.
      const double real = static_cast<double>(input.quant.scale[0] * weights.quant.scale[0]) /
                          static_cast<double>(ctx.output(0).quant.scale[0]);
      rq_.multipliers.assign(static_cast<size_t>(units_), quant::quantize_multiplier(real));
    }
  }

  void eval(KernelContext& ctx) override {
    if (rq_.type == DType::kInt8) {
      run(ctx.input(0).data_as<int8_t>(), ctx.input(1).data_as<int8_t>(), ctx.output(0).data_as<int8_t>());
    } else {
      run(ctx.input(0).data_as<uint8_t>(), ctx.input(1).data_as<uint8_t>(), ctx.output(0).data_as<uint8_t>());
    }
  }

 private:
  template <typename T>
  void run(const T* input, const T* weights, T* output) const {
    for (int64_t r = 0; r < rows_; ++r) {
      for (int u = 0; u < units_; ++u) {
        int64_t acc = 0;
        const T* x = input + r * depth_;
        const T* w = weights + int64_t{u} * depth_;
        for (int d = 0; d < depth_; ++d) {
          acc += (int32_t{w[d]} + rq_.weight_offset) * (int32_t{x[d]} + rq_.input_offset);
        }
        if (bias_) acc += bias_[u];
        output[r * units_ + u] = static_cast<T>(rq_.finish(acc, u));
      }
    }
  }

  int64_t rows_ = 0;
  int units_ = 0, depth_ = 0;
  const int32_t* bias_ = nullptr;
  Requant rq_;
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
std::unique_ptr<Kernel> fully_connected_kernel() {
  return std::make_unique<FullyConnected>();
}

}  // namespace osprey::ref::quantized
