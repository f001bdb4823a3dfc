// Depthwise int8/uint8 convolutions on osprey's AVX-512 kernels:
// DEPTHWISE_CONV_2D with a 3x3 or 5x5 window, stride 1 or 2 on both axes,
// multiplier 1, no dilation, per-tensor or per-channel weights and a fused
// RELU/RELU6/RELU_N1_TO_1; bit-exact to the integer reference kernel. 16
// channels per vector as 32-bit sums of 16-bit products (vpdpwssd, or
// vpmaddwd without VNNI), 8 output pixels per tile sharing their input.
#pragma once

#include <memory>

#include "backends/avx512/int8_cpu.h"
#include "graph/graph.h"
#include "kernels/kernel.h"

struct pthreadpool;

namespace osprey {

// A kernel for `op` (inputs: its input tensor; outputs: its output), weights
// copied; null when the op is not one of the above or `level` is kNone.
std::unique_ptr<Kernel> make_int8_depthwise_conv(const Graph& graph, const Op& op, Int8Level level,
                                                 std::shared_ptr<pthreadpool> pool);

}  // namespace osprey
