// osprey's int8/uint8 kernels for CPUs with AVX2 and FMA but no AVX-512
// (Int8Level::kAvx2: most laptops and desktops, older AMD), bit-exact to the
// integer reference kernels like the AVX-512 ones. The make_int8_* functions
// of int8_kernels.h decide what is claimed (the same ops at every level) and
// hand the claimed op here at that level.
//
// Dense and depthwise convolutions sum 16-bit products with vpmaddwd: the
// input is widened to x - x_zp once per run, the weights to w - w_zp once at
// partition time, so no product or pair sum can overflow (|x - x_zp| and
// |w - w_zp| are at most 255) and the int32 sums are the reference's.
#pragma once

#include <cstdint>
#include <memory>

#include "backends/avx512/int8_prelu_lines.h"
#include "backends/avx512/int8_requant.h"
#include "kernels/geometry.h"
#include "kernels/kernel.h"
#include "kernels/ref/quantized/fixed_point.h"

struct pthreadpool;

namespace osprey {

// A CONV_2D that int8_conv.cpp claimed: NHWC input [n, h, w, cin], filter
// [cout, kh, kw, cin], output [n, oh, ow, cout].
struct Int8Avx2ConvShape {
  int n = 0, h = 0, w = 0, cin = 0, oh = 0, ow = 0, cout = 0, kh = 0, kw = 0;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1, pad_top = 0, pad_left = 0;
};

// `filter`: the filter's bytes (copied); `rq` from int8_requant_params.
std::unique_ptr<Kernel> make_int8_conv_avx2(const Int8Avx2ConvShape& shape, const uint8_t* filter,
                                            Int8Requant rq, std::shared_ptr<pthreadpool> pool);

// The sparse form for 1x1 windows at stride 1 without padding
// (int8_sparse_conv_avx2.cpp): pixels in the lanes, and only the pairs of
// input channels (2k, 2k + 1) whose weights are not both the zero point
// multiplied. It takes a filter [cout, cin] with at least
// kInt8SparseMinZeroPairs of its pairs zero (int8_zero_pair_fraction) and
// enough work a tile to pay for transposing it in and out: 32 input channels
// or more, or 16 into 64 or more.
inline constexpr double kInt8SparseMinZeroPairs = 0.3;
double int8_zero_pair_fraction(const uint8_t* filter, int cout, int cin, const Int8Requant& rq);
bool int8_sparse_conv_avx2_takes(const uint8_t* filter, int cout, int cin, const Int8Requant& rq);
std::unique_ptr<Kernel> make_int8_sparse_conv_avx2(const Int8Avx2ConvShape& shape, const uint8_t* filter,
                                                   Int8Requant rq, std::shared_ptr<pthreadpool> pool);

// A DEPTHWISE_CONV_2D that int8_depthwise_conv.cpp claimed: a square window of
// 3 or 5, stride 1 or 2 on both axes, multiplier 1, no dilation.
struct Int8Avx2DepthwiseShape {
  int kernel = 3, stride = 1, channels = 0;
  int n = 0, h = 0, w = 0, oh = 0, ow = 0, pad_top = 0, pad_left = 0;
};

// `filter`: [1, kernel, kernel, channels] bytes (copied).
std::unique_ptr<Kernel> make_int8_depthwise_conv_avx2(const Int8Avx2DepthwiseShape& shape,
                                                      const uint8_t* filter, Int8Requant rq,
                                                      std::shared_ptr<pthreadpool> pool);

namespace int8_avx2 {

// PRELU by lines (int8_prelu_lines.h), k_neg and b_neg repeated over the period.
void prelu_lines(const PreluLines& lines, bool is_signed, const uint8_t* in, uint8_t* out, int64_t first,
                 int64_t last);

// PRELU in the reference's fixed-point steps, where no lines fit.
struct PreluFixed {
  bool is_signed = true;
  quant::Arithmetic mode = quant::Arithmetic::kLiteRT;
  int32_t in_offset = 0, out_offset = 0;
  quant::QuantizedMultiplier pos, neg;
  const int32_t* alpha = nullptr;  // alpha - zero point, `period` values
  int64_t period = 0;
};
void prelu_fixed(const PreluFixed& p, const uint8_t* in, uint8_t* out, int64_t first, int64_t last);

// AVERAGE_POOL_2D output pixels [first, last) (int8_pool.cpp), clamped to [qmin, qmax].
void average_pool(const geometry::PoolGeometry& g, bool is_signed, int32_t qmin, int32_t qmax,
                  const uint8_t* input, uint8_t* output, int64_t first, int64_t last);

}  // namespace int8_avx2

}  // namespace osprey
