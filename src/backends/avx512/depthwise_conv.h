// Depthwise 3x3 and 5x5 convolutions (stride 1 or 2, multiplier 1) over NHWC
// float32 with AVX-512: 16 channels per vector, 8 output pixels per tile
// sharing every input vector they can, weights and bias repacked once.
// Debian's XNNPACK runs these through an indirection buffer at a fraction of
// the FMA peak; this path keeps the FMA units busy instead.
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/kernel.h"

struct pthreadpool;

namespace osprey {

struct DepthwiseShape {
  int kernel = 3;  // square window, 3 or 5
  int stride = 1;  // 1 or 2, both axes
  int channels = 0;
  uint32_t pad_top = 0, pad_left = 0;  // the rest follows from the tensor shapes
  float min = 0, max = 0;              // output clamp (fused activation)
};

// Whether this CPU and the window/stride are handled here.
bool depthwise_conv_supported(int kernel, int stride);

// A kernel for the op (input) -> (output) with `filter` [1, K, K, channels]
// and `bias` [channels] or null (both copied).
std::unique_ptr<Kernel> make_depthwise_conv(const DepthwiseShape& shape, const float* filter,
                                            const float* bias, std::shared_ptr<pthreadpool> pool);

}  // namespace osprey
