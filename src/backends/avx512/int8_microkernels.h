// The inner loops of osprey's int8 convolutions, compiled once per CPU level
// (int8_cpu.h) from one source, int8_microkernels.inc: the VNNI build sums
// bytes with vpdpbusd, the AVX-512 build the same products with vpmaddwd. int8_conv.cpp and
// int8_depthwise_conv.cpp pack the weights into the layouts below and split the work over threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backends/avx512/int8_cpu.h"
#include "backends/avx512/int8_requant.h"

namespace osprey {

// Output channels one dense-conv tile computes: four vectors of 16 int32 sums.
inline constexpr int kInt8ConvBlock = 64;

// Bytes of a 3x3 window over RGB as one patch (27 in whole dwords,
// int8_conv_patches.h), what Int8Pointwise::kPatches reads a pixel.
inline constexpr int kRgbPatchBytes = 28;

// The VNNI level's pointwise kernels that hold a small layer's weights in
// registers over a task (int8_microkernels.inc), chosen when the weights are
// packed (int8_conv.cpp). Each needs a 1x1 window read pixel by pixel
// (Int8ConvWeights::pointwise) and packed rounding (int8_requant_packs).
enum class Int8Pointwise : uint8_t {
  kNone,           // the dense or pixel-lane tiles
  kResident,       // 8 or 16 input channels into 16 or 32-64, 24 into 16 or 32: pointwise_resident
  kPatches,        // a first layer's 3x3 patches over RGB, 28 bytes, into 24 or 32: pointwise_resident
  kPairs,          // 32 or 64 input channels into 8, two pixels a vector: pointwise_pairs
  kPermutedPairs,  // 8, 16 or 24 input channels into 8, two pixels a vector: pointwise_permuted_pairs
};

// A dense convolution (CONV_2D without groups), weights packed for vpdpbusd:
// per block of 64 output channels, per tap, per group of 4 of the tap's bytes,
// 64 lanes x 4 bytes (lane = output channel, its 4 weights of the group).
//
// vpdpbusd multiplies unsigned by signed bytes, so int8 activations are read
// as uint8 (x ^ 0x80 = x + 128) against the int8 weights, and uint8 weights
// become int8 (w - 128) against the uint8 activations. With x_zp the input
// and w_zp the weight zero point, the reference sum
//   sum (w - w_zp)(x - x_zp) + bias
// is then, over all taps (a tap in the padding reads x = x_zp: it adds 0):
//   int8:  dot(x + 128, w) + [bias - (x_zp + 128) * sum w]
//   uint8: dot(x, w - 128) + (128 - w_zp) * sum x + [bias - x_zp * sum (w - w_zp)]
// The bracket is `init`; `sum x` is a per-pixel sum only uint8 with a weight
// zero point other than 128 needs. Every step wraps modulo 2^32 as the
// reference's int32 accumulator does.
//
// A tap reads `depth` consecutive bytes of one input pixel on: its cin
// channels; or, for few input channels (a first layer over RGB), a whole
// window row, kw pixels of cin channels, from an input padded beforehand so
// that every window lies inside it. Then kw here is 1.
struct Int8ConvWeights {
  // cin: bytes a pixel of what the tiles read, the input's channels or, for
  // 3 widened to 4, 4 (int8_conv.cpp).
  int cin = 0, cout = 0, kh = 0, kw = 0;
  int depth = 0;                 // bytes a tap reads: cin, or the filter's kw * cin
  int groups = 0;                // ceil(depth / 4)
  int blocks = 0;                // ceil(cout / 64)
  std::vector<int8_t> packed;    // [blocks][kh * kw][groups][64][4]
  std::vector<int32_t> init;     // blocks * 64
  int32_t input_sum_factor = 0;  // 128 - w_zp (uint8), 0 otherwise
  std::vector<uint8_t> padding;  // groups * 4 bytes of the input zero point: what a padded tap reads
  // 1 or 2 when 1, 2, 4 or 8k <= 64 output channels (at most 8 for a
  // pointwise layer) run 16 pixels a vector
  // (int8_conv_pixel_lanes.inc): the dwords between neighbouring windows; 4,
  // 8 or 16 for 1x1 windows a pixel apart and up to 8 output channels
  // (int8_conv_pixel_transpose.inc); 0 otherwise.
  int pixel_lanes_step = 0;
  // The VNNI level's pointwise kernel that keeps the layer's weights in
  // registers, if one takes it (Int8Pointwise).
  Int8Pointwise small_pointwise = Int8Pointwise::kNone;
  // For Int8Pointwise::kPairs, per 32 input channels j, per product r
  // (0..7), 16 lanes, lane 8h + c channel c's weight dword of group
  // 8j + (c ^ r) (int8_microkernels.inc, pointwise_pairs); empty otherwise.
  std::vector<int32_t> pair_weights;
  // A 1x1 window at stride 1 without padding: output pixel p reads input
  // pixel p (int8_microkernels.inc, walk_pointwise).
  bool pointwise = false;
  // int8 inputs whose sign bits the caller flipped (int8_conv_patches.h):
  // the dense tiles read them as they are.
  bool flipped = false;
  bool packs = false;  // int8_requant_packs(rq, the weights' magnitudes)
  Int8Requant rq;
};

struct Int8ConvGeometry {
  int n = 0, h = 0, w = 0, oh = 0, ow = 0;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1, pad_top = 0, pad_left = 0;
};

struct Int8ConvJob {
  const Int8ConvWeights* weights = nullptr;
  Int8ConvGeometry g;
  const uint8_t* input = nullptr;  // int8 or uint8 bytes, NHWC
  uint8_t* output = nullptr;
};

// A depthwise convolution (multiplier 1), weights packed for vpdpbusd as the
// dense convolution's bytes (the same folding of zero points into `init`,
// see Int8ConvWeights). A pass computes R output rows (rows_per_pass) from
// the (R - 1) * stride + kernel input rows under them, in groups of 4: one
// int32 lane a channel, its 4 bytes the weights of 4 consecutive input rows
// (4 * g + 0..3) for output row r of the pass (window row 4 * g + b - r *
// stride, 0 past the window) of one window column kx; per block of 16
// channels, per r, per group g, per kx. A tile gathers the input the same
// way, 4 rows of one column into each channel's lane, once per column for
// every output pixel of every row of the pass whose window holds that
// column. `row_ones` is the 1 of each row of a group inside row r's window
// (0 past it), for the per-pixel input sums that uint8 weights with a zero
// point other than 128 need.
struct Int8DepthwiseWeights {
  int kernel = 3, stride = 1, channels = 0;
  int blocks = 0;                    // ceil(channels / 16)
  std::vector<int32_t> packed;       // [blocks][kernel * kernel][16] (the avx2 level's)
  int rows_per_pass = 1;             // R
  int row_groups = 0;                // ceil(((R - 1) * stride + kernel) / 4)
  std::vector<int8_t> column_bytes;  // [blocks][R][row_groups][kernel][16][4]
  std::vector<int32_t> init;         // blocks * 16
  int32_t input_sum_factor = 0;      // 128 - w_zp (uint8), 0 otherwise
  std::vector<uint32_t> row_ones;    // [R][row_groups]: bytes of 1 for the rows inside the window
  bool packs = false;                // int8_requant_packs(rq, the weights' magnitudes)
  Int8Requant rq;
};

// Output rows a depthwise pass computes: two, so that the gathered columns
// of 4 input rows serve twice the products (a 3x3 window at stride 1 reads 3
// of the 4 rows otherwise); one for 3x3 at stride 2, where two rows' 5 input
// rows would need a second group. 5x5 windows (Int8DepthwiseGathered) take
// one row at a time from groups of 4 rows gathered once, and their R rows
// of weights are the window's phases in a group: row r's window starts at
// byte r * stride of its first group, so 4 / stride of them.
constexpr int int8_depthwise_rows_per_pass(int kernel, int stride) {
  if (kernel == 5) return 4 / stride;
  return kernel == 3 && stride == 1 ? 2 : 1;
}

struct Int8DepthwiseJob {
  const Int8DepthwiseWeights* weights = nullptr;
  int n = 0, h = 0, w = 0, oh = 0, ow = 0, pad_top = 0, pad_left = 0;
  const uint8_t* input = nullptr;
  uint8_t* output = nullptr;
  uint8_t* gathered = nullptr;  // 5x5 only: int8_depthwise_gathered_bytes() of scratch
};

// 5x5 windows can gather each column of 4 input rows once, not once a
// tile (a tile of 8 pixels reads 12 columns at stride 1 and 19 at stride 2,
// in 2 groups of rows): int8_depthwise_conv.cpp chooses. A task, a band of
// output rows of one channel block of one image, gathers the groups of 4
// padded input rows its windows cover (rows 4 g .. 4 g + 3 from the top
// padding on, every column its tiles read, as the vpdpbusd operands they
// are: 64 bytes) into a ring of 2 in its own part of job.gathered, each
// once; output row y, a load a column, takes group y * stride / 4 and the
// next with the weights of its window's phase in them (rows_per_pass).
constexpr int kInt8DepthwiseTile = 8;          // output pixels a depthwise tile computes
constexpr int kInt8DepthwiseGatheredRing = 2;  // gathered groups a task keeps: the two a row reads

struct Int8DepthwiseGathered {
  int band_rows = 0;  // output rows a task computes
  int bands = 0;      // tasks an image and block: ceil(oh / band_rows)
  int columns = 0;    // gathered columns a row: every tile's, padding included
};
// Bands of 32 rows, where a band gathers the rows under its last window
// besides its own; of 8 when fewer than 4 images and blocks would leave a
// thread idle.
// (5x5 windows, the only ones that gather rows.)
inline Int8DepthwiseGathered int8_depthwise_gathered(int n, int oh, int ow, int blocks, int stride) {
  const int band_rows = n * blocks >= 4 ? 32 : 8;
  const int tiles = (ow + kInt8DepthwiseTile - 1) / kInt8DepthwiseTile;
  return {band_rows, (oh + band_rows - 1) / band_rows, (tiles * kInt8DepthwiseTile - 1) * stride + 5};
}
// Scratch bytes a job needs: a ring of 64 bytes a gathered column, a task.
inline size_t int8_depthwise_gathered_bytes(int n, int oh, int ow, int blocks, int stride) {
  const Int8DepthwiseGathered g = int8_depthwise_gathered(n, oh, ow, blocks, stride);
  return static_cast<size_t>(n) * g.bands * blocks * kInt8DepthwiseGatheredRing * g.columns * 64;
}

struct Int8Microkernels {
  // Output pixels [first, last) (flattened n, oy, ox) of channel block `block`.
  void (*conv)(const Int8ConvJob& job, int64_t first, int64_t last, int block);
  // 3x3 windows, pass `pass` of channel block `block`: image pass / P, its
  // output rows from R * (pass % P) on (R rows_per_pass, P = ceil(oh / R));
  // [stride == 2].
  void (*depthwise3[2])(const Int8DepthwiseJob& job, int block, int pass);
  // 5x5 windows: band `task` % B of image `task` / B (B bands,
  // Int8DepthwiseGathered) of channel block `block`, from the rows it
  // gathers; [stride == 2].
  void (*depthwise5_gathered[2])(const Int8DepthwiseJob& job, int block, int task);
};

// The kernels of `level`; null for Int8Level::kNone and kAvx2 (int8_avx2.h).
const Int8Microkernels* int8_microkernels(Int8Level level);

namespace int8_vnni_vbmi {
const Int8Microkernels& microkernels();
}
namespace int8_vnni {
const Int8Microkernels& microkernels();
}
namespace int8_avx512 {
const Int8Microkernels& microkernels();
}

}  // namespace osprey
