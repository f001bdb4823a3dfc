// osprey's own int8/uint8 kernels on AVX-512 (VNNI where present), bit-exact
// to the integer reference kernel in each of its arithmetics. On a CPU with
// AVX2 and FMA but no AVX-512 (Int8Level::kAvx2) the same ops are claimed and
// run on the 8-lane kernels of int8_avx2.h; the tables there are looked up
// one byte at a time.
//
// Dense (int8_conv.cpp): CONV_2D without groups, windows up to 7x7 (1x1 and 3x3
// the common ones; a first layer's 5x5 over 3 channels too), strides 1 to 4,
// any dilation. The weights are packed for vpdpbusd once, at partition time,
// with the bias and zero-point terms folded into one int32 per channel
// (int8_microkernels.h says how). Up to 8 output channels, two pixels share
// a vector (lanes 0-7 and 8-15) so that no lane idles; but 1, 2, 4 or a
// multiple of 8 up to 64 output channels over windows 1 or 2 dwords apart (4 or 8 input channels at
// stride 1, 4 at stride 2; windows inside the input or its padded copy,
// whole dwords a tap) run 16 pixels of a row a vector, a vector per channel,
// 8 channels at a time (int8_conv_pixel_lanes.inc); so do 1, 2, 4 or 8
// output channels over a 1x1 window at column stride 1 and 16, 32 or 64 input
// channels, 16 pixels transposed in registers (int8_conv_pixel_transpose.inc).
// At the avx2 level, 1x1 windows whose weights are mostly zero pairs run on
// a sparse form that skips them (int8_avx2.h, int8_sparse_conv_avx2.cpp).
//
// Depthwise (int8_depthwise_conv.cpp): DEPTHWISE_CONV_2D with a 3x3 or 5x5
// window, stride 1 or 2 on both axes, multiplier 1, no dilation. 16 channels
// per vector, each channel's lane the bytes of 4 window rows of one input
// column against their 4 weights (vpdpbusd, or vpmaddwd without VNNI; zero
// points folded as in the dense case), 8 output pixels per tile sharing every
// column they can; a block of 8 channels (8, 24, 40...) under a 3x3 window at
// stride 1 puts two pixels in a vector instead, 16 pixels a tile.
//
// Both: SAME or VALID padding, per-tensor or per-channel weights and a fused
// RELU/RELU6/RELU_N1_TO_1; and a PAD before them that only they read and
// that fills with the zero point (int8_pad.h) as more of their padding.
//
// Elementwise (int8_prelu.cpp, int8_table.cpp), int8 or uint8 with per-tensor parameters:
//   PRELU with a constant alpha that repeats along the input's last dims
//     (per channel, or one value): with up to 4096 alpha values, each branch
//     as a line through the reference's own outputs (int8_prelu_lines.h: a
//     multiply, an add and a shift per lane); otherwise, or where no line
//     reproduces them, the reference's fixed-point steps 16 lanes at a time,
//     in each of its arithmetics;
//   LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU, QUANTIZE between byte types, and
//     RELU/RELU6/RELU_N1_TO_1 that rescale (XNNPACK takes those that only
//     clamp): a 256-entry table filled by the reference kernel itself at
//     partition time, looked up 64 bytes at a time with vpermi2b (VBMI) at
//     the vnni level, one byte at a time at the avx512 level.
//
// AVERAGE_POOL_2D (int8_pool.cpp), input and output sharing parameters,
// windows up to 16384 values: the reference's sum over the clipped window, 16
// channels per vector, and its division rounded half away from zero.
//
// MAX_POOL_2D (int8_max_pool.cpp), input and output sharing parameters, at
// the avx512 and vnni levels: the greatest byte of the clipped window, 64
// channels a vector; 2x2 windows at stride 2 over 16 or 32 channels two
// rows at a time, several pixels a vector.
//
// MEAN and MUL (int8_mean_mul.cpp; int8_mean_mul_avx2.cpp at the avx2 level,
// 8 lanes a product), int8 or uint8, per-tensor parameters:
//   MEAN over H and W of a 4-D tensor (keep_dims or not), up to 2^23 values
//     a sum: exact int32 sums, 64 channels a vector (channels dividing 64
//     read as one stream), then the reference's scalar step per channel
//     (ref/quantized/mean.h); a task per batch and 64-channel block;
//   MUL of two run-time operands of one shape, or of one and a vector of its
//     last dim (either order): the reference's requantization (XNNPACK's fp32
//     or TFLite's fixed point, ref/quantized/elementwise.h) 16 lanes at a
//     time, with the fused activation's clamp.
//
// ADD (int8_add.cpp) of two run-time operands of one shape, int8 or uint8,
// per-tensor parameters, at the avx512 and vnni levels with LiteRT's
// arithmetic where it is XNNPACK's (ref/quantized/elementwise.h): XNNPACK
// runs such an ADD on one thread; this one splits like the operations
// around it.
//
// TRANSPOSE_CONV (int8_transpose_conv.cpp), int8 or uint8, constant weights
// (per-tensor, or per-channel int8) and bias, any window and stride the
// reference takes, SAME or VALID, a fused RELU/RELU6/RELU_N1_TO_1: per input
// row and kernel row a GEMM on vpmaddwd (the VNNI level runs the same code;
// the AVX2 level 8 lanes at a time, int8_transpose_conv_avx2.cpp), added into
// int32 output rows.
//
// PAD and PADV2 filling with the zero point (int8_pad.cpp) that no
// convolution takes, over height, width and channels: rows of memcpy and
// memset, pixels whose channels are padded at the end one masked load and
// store per 64 bytes (XNNPACK's PAD copies such pixels slowly).
//
// RESIZE_BILINEAR (int8_resize.cpp), int8 or uint8 with input and output
// sharing parameters, at the avx512 and vnni levels with LiteRT's arithmetic
// only: XNNPACK's 11-bit weights in int32 lanes, 16 channels a vector, on
// the reference's own taps (ref/quantized/bilinear_taps.h); a task per
// output row.
#pragma once

#include <memory>

#include "backends/avx512/int8_cpu.h"
#include "backends/avx512/int8_pad.h"
#include "graph/graph.h"
#include "kernels/kernel.h"

struct pthreadpool;

namespace osprey {

// A kernel for `op` (inputs: its input tensor; outputs: its output) on the
// microkernels of `level`, with every constant it reads copied; null when the
// op is not one the kernel takes (above) or `level` is kNone.
std::unique_ptr<Kernel> make_int8_conv(const Graph& graph, const Op& op, Int8Level level,
                                       std::shared_ptr<pthreadpool> pool);
std::unique_ptr<Kernel> make_int8_depthwise_conv(const Graph& graph, const Op& op, Int8Level level,
                                                 std::shared_ptr<pthreadpool> pool);
// The same two kernels for `op` reading the input of `pad` (int8_pad.h) in
// place of its output; null as above.
std::unique_ptr<Kernel> make_int8_conv_after_pad(const Graph& graph, const Int8SpatialPad& pad, const Op& op,
                                                 Int8Level level, std::shared_ptr<pthreadpool> pool);
std::unique_ptr<Kernel> make_int8_depthwise_conv_after_pad(const Graph& graph, const Int8SpatialPad& pad,
                                                           const Op& op, Int8Level level,
                                                           std::shared_ptr<pthreadpool> pool);
std::unique_ptr<Kernel> make_int8_prelu(const Graph& graph, const Op& op, Int8Level level,
                                        std::shared_ptr<pthreadpool> pool);
// A PAD of int8_pad.h's kind (zero-point fill, any of height, width and
// channels) as a copy, at the avx512 and vnni levels; null otherwise.
std::unique_ptr<Kernel> make_int8_pad(const Graph& graph, const Op& op, Int8Level level,
                                      std::shared_ptr<pthreadpool> pool);
std::unique_ptr<Kernel> make_int8_resize_bilinear(const Graph& graph, const Op& op, Int8Level level,
                                                  std::shared_ptr<pthreadpool> pool);
std::unique_ptr<Kernel> make_int8_table(const Graph& graph, const Op& op, Int8Level level,
                                        std::shared_ptr<pthreadpool> pool);
std::unique_ptr<Kernel> make_int8_average_pool(const Graph& graph, const Op& op, Int8Level level,
                                               std::shared_ptr<pthreadpool> pool);
// At the avx512 and vnni levels only (XNNPACK's then).
std::unique_ptr<Kernel> make_int8_max_pool(const Graph& graph, const Op& op, Int8Level level,
                                           std::shared_ptr<pthreadpool> pool);
std::unique_ptr<Kernel> make_int8_mean(const Graph& graph, const Op& op, Int8Level level,
                                       std::shared_ptr<pthreadpool> pool);
// Its kernel reads both operands as inputs 0 and 1, in the op's order; so
// does ADD's.
std::unique_ptr<Kernel> make_int8_add(const Graph& graph, const Op& op, Int8Level level,
                                      std::shared_ptr<pthreadpool> pool);
std::unique_ptr<Kernel> make_int8_mul(const Graph& graph, const Op& op, Int8Level level,
                                      std::shared_ptr<pthreadpool> pool);
// TRANSPOSE_CONV: its kernel's input is the op's data input (input 2), not input 0.
std::unique_ptr<Kernel> make_int8_transpose_conv(const Graph& graph, const Op& op, Int8Level level,
                                                 std::shared_ptr<pthreadpool> pool);

}  // namespace osprey
