// What int8_transpose_conv.cpp (AVX-512) and int8_transpose_conv_avx2.cpp
// share: an int8/uint8 TRANSPOSE_CONV packed at partition time, and the
// output rows each level computes from it. How the sums are laid out is said
// at the top of int8_transpose_conv.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/avx512/int8_requant.h"
#include "kernels/geometry.h"

namespace osprey {

struct Int8TransposeConvPlan {
  geometry::TransposeConvGeometry g;
  bool is_signed = true;
  int32_t input_zero_point = 0;
  // Per lane of a period (below): the parameters of channel lane % Cout.
  Int8Requant rq;
  std::vector<int32_t> bias;     // [period]
  int pairs = 0;                 // ceil(Cin / 2)
  int64_t columns = 0;           // KW * Cout: sums of one input pixel for one kernel row
  int64_t period = 0;            // lcm(columns, 16)
  int64_t phases = 0;            // period / 16
  std::vector<int32_t> pixel;    // [phases][16]: the pixel a lane reads, from the chunk's first
  std::vector<int32_t> weights;  // [KH][phases][pairs][16]: int16 pairs (w - w_zp)
  int64_t planar_pixels = 0;     // pixels of a planar row: W, then at least 16 zeros, to a multiple of 32
  int64_t planar_ints = 0;       // pairs * planar_pixels
  int slots = 0;                 // planar rows a band keeps: ceil(KH / stride_h)
  bool adjacent = false;         // stride_w == KW
  int64_t sums_ints = 0;         // a row's flat sums (0 when adjacent)
  int64_t acc_left = 0;          // accumulator margin before output pixel 0 (left padding)
  int64_t acc_ints = 0;          // the accumulator row, margins included
  int64_t band_ints = 0;         // scratch of one band
  int64_t rows_per_band = 0;
  int64_t bands = 0;
};

// Output rows [first, last) (flattened n, oy) with one band's `scratch`
// (band_ints) and `held` (slots): which input row each planar slot holds.
void int8_transpose_conv_rows_avx512(const Int8TransposeConvPlan& p, const uint8_t* input, uint8_t* output,
                                     int32_t* scratch, int64_t* held, int64_t first, int64_t last);
void int8_transpose_conv_rows_avx2(const Int8TransposeConvPlan& p, const uint8_t* input, uint8_t* output,
                                   int32_t* scratch, int64_t* held, int64_t first, int64_t last);

}  // namespace osprey
