// The windows of a convolution over few input channels (a first layer over
// RGB) copied out as pixels of their own: window bytes [ky][kx][c], then 0
// up to `depth`, one such pixel an output pixel, so that the layer runs as
// a pointwise one on the dense tiles (int8_conv.cpp). Windows overhanging
// the input read the zero point there.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "backends/avx512/int8_microkernels.h"

namespace osprey {

struct Int8PatchPlan {
  Int8ConvGeometry g;  // the convolution's, over the input
  int kh = 0, kw = 0, cin = 0;
  int depth = 0;  // bytes a patch: kh * kw * cin up to whole dwords
  // 16 patches of a row from one 128-byte span of each window row (VBMI):
  // per 64 output bytes j and window row ky, the span byte each output byte
  // takes (index[j * kh + ky]) and which bytes take one (mask, the rest 0).
  bool vector = false;
  int span = 0;  // bytes of a window row's span
  std::vector<std::array<uint8_t, 64>> index;
  std::vector<uint64_t> mask;
};

// The plan for windows kh x kw over cin channels of g, for a CPU with
// AVX-512 VBMI (the vector copy is used where 16 windows fit its span).
Int8PatchPlan int8_patch_plan(const Int8ConvGeometry& g, int kh, int kw, int cin);

// The patches of output row `row` (n * oh + oy) from `input` (NHWC, plan.cin
// channels) into `patches` (the row's first patch at row * ow * depth), each
// window byte xor `flip` (0x80: int8 made the unsigned bytes vpdpbusd
// reads, once here rather than once a product); bytes past a window's
// kh * kw * cin are left as they are (0 when the caller zeroed them once).
void int8_patch_row(const Int8PatchPlan& plan, const uint8_t* input, uint8_t zero_point, uint8_t flip,
                    size_t row, uint8_t* patches);

}  // namespace osprey
