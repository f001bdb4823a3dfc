#include "backends/avx512/int8_kernels.h"

#include <pthreadpool.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backends/avx512/int8_avx2.h"
#include "backends/avx512/int8_conv_patches.h"
#include "backends/avx512/int8_microkernels.h"
#include "backends/avx512/int8_pad.h"
#include "backends/avx512/intrinsics.h"
#include "backends/op_checks.h"
#include "core/error.h"

namespace osprey {

namespace {

using namespace backend_checks;

// Output pixels one task computes: a multiple of every tile's pixel count;
// with pixels in the lanes, of the 16-pixel vectors (int8_conv_pixel_lanes.inc).
constexpr int64_t kPixelsPerTask = 60;
constexpr int64_t kPixelLanesPerTask = 256;
// The windows and strides the sweep tests cover (the tile itself takes any).
constexpr int kMaxWindow = 7;
constexpr int kMaxStride = 4;

// A first layer over 3 channels (RGB) reads a copy with 4 bytes a pixel, the
// fourth 0: a window row is then whole dwords, and 16 windows a step of 1 or
// 2 dwords apart, which the pixel-lane tiles need; with 3 bytes a pixel the
// 6-pixel tile, a scalar load and broadcast each dword, took about twice as
// long (the first layers of hand_landmark_full and face detection).
constexpr int kWidenedCin = 4;

struct Claim {
  Int8ConvGeometry g;
  int cout = 0, cin = 0, kh = 0, kw = 0;
  Activation activation = Activation::kNone;
};

// `pad`, when given, is a PAD the convolution reads the input of (int8_pad.h).
bool claims(const Graph& graph, const Op& op, const Int8SpatialPad* pad, Claim& c) {
  if (op.index < 0 || op.code != static_cast<int32_t>(OpCode::kConv2D) || *io_mismatch(op, 2, 3, 1))
    return false;
  const Tensor& input = in(graph, op, 0);
  const Tensor& filter = in(graph, op, 1);
  const Tensor& output = out(graph, op);
  if (!is_int8_activation(input) || !is_int8_activation(output) || output.type != input.type) return false;
  if (filter.rank() != 4 || !dims_positive(filter.shape) || filter.dim(3) != input.dim(3)) return false;
  const auto opt = options_of<Conv2DOptions>(op);
  c.cout = filter.dim(0);
  c.kh = filter.dim(1);
  c.kw = filter.dim(2);
  c.cin = filter.dim(3);
  if (c.kh > kMaxWindow || c.kw > kMaxWindow) return false;
  if (opt.stride_h < 1 || opt.stride_h > kMaxStride || opt.stride_w < 1 || opt.stride_w > kMaxStride)
    return false;
  Window y, x;
  if (!window(input.dim(1), c.kh, opt.stride_h, opt.dilation_h, opt.padding, y) ||
      !window(input.dim(2), c.kw, opt.stride_w, opt.dilation_w, opt.padding, x)) {
    return false;
  }
  if (output.shape != Shape{input.dim(0), static_cast<int32_t>(y.out), static_cast<int32_t>(x.out), c.cout})
    return false;
  c.g = {input.dim(0),
         input.dim(1),
         input.dim(2),
         static_cast<int>(y.out),
         static_cast<int>(x.out),
         opt.stride_h,
         opt.stride_w,
         opt.dilation_h,
         opt.dilation_w,
         static_cast<int>(y.before),
         static_cast<int>(x.before)};
  if (pad) {
    c.g.h -= pad->top + pad->bottom;
    c.g.w -= pad->left + pad->right;
    c.g.pad_top += pad->top;
    c.g.pad_left += pad->left;
  }
  c.activation = opt.activation;
  return true;
}

#include "backends/avx512/avx512_target_begin.h"

// `pixels` pixels of 3 bytes at `from` to 4 bytes each at `to`, the fourth
// byte 0: 16 at a time, each 128-bit lane 4 pixels (12 bytes of a dword
// permutation spread by a byte shuffle).
void widen_pixels(const uint8_t* from, int pixels, uint8_t* to) {
  const __m512i dwords = _mm512_setr_epi32(0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 9, 10, 11, 12);
  const __m512i spread =
      _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1));
  for (int p = 0; p < pixels; p += 16) {
    const int n = std::min(16, pixels - p);
    const __mmask64 in = (__mmask64{1} << (3 * n)) - 1;
    const __mmask64 out = n == 16 ? ~__mmask64{0} : (__mmask64{1} << (4 * n)) - 1;
    const __m512i bytes = _mm512_maskz_loadu_epi8(in, from + 3 * static_cast<size_t>(p));
    _mm512_mask_storeu_epi8(to + 4 * static_cast<size_t>(p), out,
                            _mm512_shuffle_epi8(_mm512_permutexvar_epi32(dwords, bytes), spread));
  }
}

#include "backends/avx512/avx512_target_end.h"

// Whether a tap reads a whole window row (int8_microkernels.h): with fewer
// input channels than a vector's 16 groups of 4, per-pixel taps would leave
// most of each group's bytes and the tile's time unused.
bool row_taps(const Claim& c) {
  return c.kw > 1 && c.g.dilation_w == 1 && c.cin < 16;
}

// What the tiles read for row taps: the input inside a zero-point border big
// enough for every window, so that no window row is cut.
Int8ConvGeometry padded_geometry(const Claim& c) {
  Int8ConvGeometry g = c.g;
  g.h = std::max(c.g.pad_top + c.g.h, (c.g.oh - 1) * c.g.stride_h + (c.kh - 1) * c.g.dilation_h + 1);
  g.w = std::max(c.g.pad_left + c.g.w, (c.g.ow - 1) * c.g.stride_w + c.kw);
  g.pad_top = g.pad_left = 0;
  return g;
}

// Packs the filter [cout, kh, kw, cin] and folds the bias and zero points
// (int8_microkernels.h); for `tile_cin` channels a pixel in what the tiles
// read, those past the filter's with weight 0.
Int8ConvWeights pack(const Claim& c, const Tensor& filter, Int8Requant rq, int tile_cin) {
  Int8ConvWeights w;
  const bool rows = row_taps(c);
  w.cin = tile_cin;
  w.cout = c.cout;
  w.kh = c.kh;
  w.kw = rows ? 1 : c.kw;
  w.depth = rows ? c.kw * tile_cin : tile_cin;
  w.groups = (w.depth + 3) / 4;
  w.blocks = (c.cout + kInt8ConvBlock - 1) / kInt8ConvBlock;
  const int taps = w.kh * w.kw;
  const int filter_taps = c.kh * c.kw;
  const size_t tap_bytes = static_cast<size_t>(w.groups) * kInt8ConvBlock * 4;
  w.packed.assign(static_cast<size_t>(w.blocks) * taps * tap_bytes, 0);
  w.init.assign(static_cast<size_t>(w.blocks) * kInt8ConvBlock, 0);
  const uint8_t* bytes = filter.data_as<uint8_t>();
  // Per channel, the sum of |w| (int8) or |w - w_zp| (uint8): int8_requant_packs' bound.
  std::vector<int64_t> magnitudes(static_cast<size_t>(c.cout));
  for (int oc = 0; oc < c.cout; ++oc) {
    int64_t sum = 0;  // sum of w (int8) or of w - w_zp (uint8)
    for (int t = 0; t < filter_taps; ++t) {
      for (int ic = 0; ic < c.cin; ++ic) {
        const Int8ByteWeight weight =
            int8_byte_weight(rq, bytes[(static_cast<size_t>(oc) * filter_taps + t) * c.cin + ic]);
        sum += weight.sum_term;
        magnitudes[static_cast<size_t>(oc)] += std::abs(weight.sum_term);
        // Its packed tap, and its byte in that tap.
        const int tap = rows ? t / c.kw : t, d = rows ? (t % c.kw) * tile_cin + ic : ic;
        const size_t at = static_cast<size_t>(oc / kInt8ConvBlock) * taps * tap_bytes + tap * tap_bytes +
                          static_cast<size_t>(d / 4) * kInt8ConvBlock * 4 +
                          static_cast<size_t>(oc % kInt8ConvBlock) * 4 + d % 4;
        w.packed[at] = weight.packed;
      }
    }
    w.init[static_cast<size_t>(oc)] = int8_folded_init(rq, oc, sum);
  }
  w.input_sum_factor = int8_input_sum_factor(rq);
  w.padding.assign(static_cast<size_t>(w.groups) * 4, static_cast<uint8_t>(rq.input_zero_point));
  w.packs = int8_requant_packs(rq, magnitudes);
  w.rq = std::move(rq);
  return w;
}

// The dwords between neighbouring windows when 1, 2, 4 or a multiple of 8
// up to 64 output channels (up to 8 in a pointwise layer) can run 16 pixels
// a vector (int8_microkernels.h):
// every window inside what the tiles read (`tile_g`), whole dwords a tap,
// and a step of 1 or 2 dwords, or (a 1x1 window at column stride 1, up to 8
// output channels) 4, 8 or 16, whole pixels; else 0.
int pixel_lanes_step(const Claim& c, const Int8ConvWeights& w, const Int8ConvGeometry& tile_g) {
  const bool channels =
      c.cout == 1 || c.cout == 2 || c.cout == 4 || (c.cout % 8 == 0 && c.cout <= kInt8ConvBlock);
  if (!channels || w.depth % 4 != 0 || tile_g.pad_top != 0 || tile_g.pad_left != 0) return 0;
  // The last window's last byte, on each axis, in the rows and pixels of tile_g.
  if ((tile_g.oh - 1) * tile_g.stride_h + (w.kh - 1) * tile_g.dilation_h >= tile_g.h) return 0;
  const int row_bytes = tile_g.w * w.cin;
  if (((tile_g.ow - 1) * tile_g.stride_w + (w.kw - 1) * tile_g.dilation_w) * w.cin + w.depth > row_bytes)
    return 0;
  const int step = tile_g.stride_w * w.cin;
  // A pointwise layer of 16 or more output channels runs faster with them
  // in the lanes (int8_microkernels.inc, walk_pointwise): 1x1 8 -> 32 at
  // 96x96 took 0.085 ms here, 0.051-0.057 ms there.
  if (w.pointwise && c.cout >= 16) return 0;
  if (step == 4 || step == 8) return step / 4;
  // 1x1 windows a pixel apart, whole pixels transposed in registers; with
  // more than 8 output channels a broadcast pixel feeds enough products.
  const bool pixels = w.kh == 1 && w.kw == 1 && tile_g.stride_w == 1 && c.cout <= 8;
  return pixels && (w.cin == 16 || w.cin == 32 || w.cin == 64) ? w.cin / 4 : 0;
}

// The register-resident pointwise kernel of the VNNI level that takes the
// layer (int8_microkernels.h), if any; `patches`: w reads a first layer's
// windows as pixels (int8_conv_patches.h).
Int8Pointwise small_pointwise(const Int8ConvWeights& w, bool patches, Int8Level level) {
  if (level < Int8Level::kVnni || !w.pointwise || !w.packs) return Int8Pointwise::kNone;
  if (patches) {
    return w.depth == kRgbPatchBytes && (w.cout == 24 || w.cout == 32) ? Int8Pointwise::kPatches
                                                                       : Int8Pointwise::kNone;
  }
  if ((w.depth == 8 || w.depth == 16) && (w.cout == 16 || (w.cout >= 32 && w.cout <= kInt8ConvBlock)))
    return Int8Pointwise::kResident;
  if (w.depth == 24 && (w.cout == 16 || w.cout == 32)) return Int8Pointwise::kResident;
  if (w.cout == 8 && (w.cin == 32 || w.cin == 64) && w.depth == w.cin) return Int8Pointwise::kPairs;
  if (w.cout == 8 && (w.cin == 8 || w.cin == 16 || w.cin == 24) && w.depth == w.cin)
    return Int8Pointwise::kPermutedPairs;
  return Int8Pointwise::kNone;
}

// Int8ConvWeights::pair_weights from the packed weights (one block of 64
// lanes, 8 of them channels).
void pack_pair_weights(Int8ConvWeights& w) {
  w.pair_weights.resize(static_cast<size_t>(w.cin / 32) * 8 * 16);
  for (size_t at = 0; at < w.pair_weights.size(); ++at) {
    const int lane = static_cast<int>(at % 16), r = static_cast<int>(at / 16 % 8);
    const int j = static_cast<int>(at / 128), c = lane % 8;
    const size_t group = static_cast<size_t>(8 * j + (c ^ r));
    std::memcpy(&w.pair_weights[at], w.packed.data() + (group * kInt8ConvBlock + c) * 4, 4);
  }
}

// Which kernel of `level` runs the weights: the pixel-lane tiles'
// step, and the register-resident pointwise kernel (with its layout).
void choose_kernel(const Claim& c, Int8ConvWeights& w, const Int8ConvGeometry& tile_g, bool patches,
                   Int8Level level) {
  w.pixel_lanes_step = pixel_lanes_step(c, w, tile_g);
  w.small_pointwise = small_pointwise(w, patches, level);
  if (w.small_pointwise == Int8Pointwise::kPairs) pack_pair_weights(w);
}

struct Task {
  const Int8Microkernels* kernels;
  Int8ConvJob job;
  int64_t pixels;
  int64_t pixels_per_task;
};

void run_task(void* context, size_t chunk, size_t block) {
  const Task& task = *static_cast<const Task*>(context);
  const int64_t first = static_cast<int64_t>(chunk) * task.pixels_per_task;
  task.kernels->conv(task.job, first, std::min(task.pixels, first + task.pixels_per_task),
                     static_cast<int>(block));
}

void run_patch_row(void* context, size_t row);

class Int8ConvKernel final : public Kernel {
 public:
  // `tile_g`: what the tiles read, g itself, (row taps) a padded copy's
  // geometry or (`patches`, when its kh is not 0) the patches' as 1x1
  // pixels; `cin`: the input's channels, w.cin or 3 (widened, or patches).
  Int8ConvKernel(Int8ConvWeights w, int cin, Int8ConvGeometry g, Int8ConvGeometry tile_g,
                 const Int8Microkernels* kernels, std::shared_ptr<pthreadpool> pool,
                 Int8PatchPlan patches = {})
      : w_(std::move(w)),
        cin_(cin),
        g_(g),
        tile_g_(tile_g),
        patches_(std::move(patches)),
        kernels_(kernels),
        pool_(std::move(pool)) {
    if (patches_.kh) {
      // The bytes past a window's stay 0 (they add nothing).
      padded_.assign(static_cast<size_t>(g_.n) * g_.oh * g_.ow * w_.cin, 0);
    } else if (tile_g_.h != g_.h || tile_g_.w != g_.w || w_.cin != cin_) {
      // What eval does not copy over stays the zero point, and a widened
      // pixel's fourth byte 0 (int8_microkernels.h: it adds nothing).
      padded_.assign(static_cast<size_t>(g_.n) * tile_g_.h * tile_g_.w * w_.cin,
                     static_cast<uint8_t>(w_.rq.input_zero_point));
      if (w_.cin != cin_) {
        for (size_t i = kWidenedCin - 1; i < padded_.size(); i += kWidenedCin) padded_[i] = 0;
      }
    }
  }

  void prepare(KernelContext& ctx) override {
    check_built_shapes(ctx, "int8 convolution", Shape({g_.n, g_.h, g_.w, cin_}),
                       Shape({g_.n, g_.oh, g_.ow, w_.cout}));
  }

  void patch_row(size_t row) {
    int8_patch_row(patches_, input_, static_cast<uint8_t>(w_.rq.input_zero_point), w_.flipped ? 0x80 : 0, row,
                   padded_.data());
  }

  void eval(KernelContext& ctx) override {
    const uint8_t* input = ctx.input(0).data_as<uint8_t>();
    if (patches_.kh) {
      input_ = input;
      pthreadpool_parallelize_1d(pool_.get(), run_patch_row, this, static_cast<size_t>(g_.n) * g_.oh, 0);
      input = padded_.data();
    } else if (!padded_.empty()) {
      const size_t row = static_cast<size_t>(g_.w) * cin_;
      for (int b = 0; b < g_.n; ++b) {
        for (int y = 0; y < g_.h; ++y) {
          const size_t at = (static_cast<size_t>(b) * tile_g_.h + y + g_.pad_top) * tile_g_.w + g_.pad_left;
          const uint8_t* from = input + (static_cast<size_t>(b) * g_.h + y) * row;
          if (w_.cin == cin_) {
            std::memcpy(padded_.data() + at * w_.cin, from, row);
          } else {
            widen_pixels(from, g_.w, padded_.data() + at * w_.cin);
          }
        }
      }
      input = padded_.data();
    }
    Task task{kernels_,
              {&w_, tile_g_, input, ctx.output(0).data_as<uint8_t>()},
              int64_t{g_.n} * g_.oh * g_.ow,
              w_.pixel_lanes_step ? kPixelLanesPerTask : kPixelsPerTask};
    const size_t chunks =
        static_cast<size_t>((task.pixels + task.pixels_per_task - 1) / task.pixels_per_task);
    pthreadpool_parallelize_2d(pool_.get(), run_task, &task, chunks, static_cast<size_t>(w_.blocks), 0);
  }

 private:
  Int8ConvWeights w_;
  int cin_;
  Int8ConvGeometry g_;       // the op's
  Int8ConvGeometry tile_g_;  // what the tiles read
  Int8PatchPlan patches_;
  std::vector<uint8_t> padded_;     // the padded copy or the patches
  const uint8_t* input_ = nullptr;  // eval's, for patch_row
  const Int8Microkernels* kernels_;
  std::shared_ptr<pthreadpool> pool_;
};

void run_patch_row(void* context, size_t row) {
  static_cast<Int8ConvKernel*>(context)->patch_row(row);
}

std::unique_ptr<Kernel> make(const Graph& graph, const Op& op, const Int8SpatialPad* pad, Int8Level level,
                             std::shared_ptr<pthreadpool> pool) {
  Claim c;
  if (level == Int8Level::kNone || !claims(graph, op, pad, c)) return nullptr;
  Int8Requant rq;
  if (!int8_requant_params(graph, op, c.cout, 0, c.activation, rq)) return nullptr;
  if (level == Int8Level::kAvx2) {
    const Int8Avx2ConvShape shape{c.g.n,        c.g.h,          c.g.w,          c.cin,       c.g.oh,
                                  c.g.ow,       c.cout,         c.kh,           c.kw,        c.g.stride_h,
                                  c.g.stride_w, c.g.dilation_h, c.g.dilation_w, c.g.pad_top, c.g.pad_left};
    const uint8_t* filter = in(graph, op, 1).data_as<uint8_t>();
    const bool pointwise = c.kh == 1 && c.kw == 1 && c.g.stride_h == 1 && c.g.stride_w == 1 &&
                           c.g.pad_top == 0 && c.g.pad_left == 0 && c.g.oh == c.g.h && c.g.ow == c.g.w;
    if (pointwise && int8_sparse_conv_avx2_takes(filter, c.cout, c.cin, rq))
      return make_int8_sparse_conv_avx2(shape, filter, std::move(rq), std::move(pool));
    return make_int8_conv_avx2(shape, filter, std::move(rq), std::move(pool));
  }
  const Int8Microkernels* kernels = int8_microkernels(level);
  if (!kernels) return nullptr;
  const Int8ConvGeometry tile_g = row_taps(c) ? padded_geometry(c) : c.g;
  // With VBMI, a first layer over RGB into whole pairs of vectors of output
  // channels reads its windows as pixels (int8_conv_patches.h) on the dense
  // tiles: face_detection_full_range_sparse's 0.128 -> 0.108 ms on Zen 4,
  // the model 2-4%. 3x3 windows into 24 channels too, since their patches
  // run on pointwise_resident (pose_detection's layer 0.136 -> 0.119 ms);
  // with 16 the pixel-lane tiles stay faster (face_landmark's layer 0.071
  // against 0.089 ms).
  const bool patch_channels = c.cout % 32 == 0 || (c.kh == 3 && c.kw == 3 && c.cout == 24);
  if (row_taps(c) && c.cin == kWidenedCin - 1 && patch_channels && level >= Int8Level::kVnniVbmi) {
    Int8PatchPlan plan = int8_patch_plan(c.g, c.kh, c.kw, c.cin);
    Claim p = c;  // the window as one pixel's channels
    p.kh = p.kw = 1;
    p.cin = c.kh * c.kw * c.cin;
    p.g = {c.g.n, c.g.oh, c.g.ow, c.g.oh, c.g.ow};
    Int8ConvWeights w = pack(p, in(graph, op, 1), std::move(rq), plan.depth);
    w.pointwise = true;
    w.flipped = w.rq.is_signed;
    choose_kernel(p, w, p.g, true, level);
    return std::make_unique<Int8ConvKernel>(std::move(w), c.cin, c.g, p.g, kernels, std::move(pool),
                                            std::move(plan));
  }
  if (row_taps(c) && c.cin == kWidenedCin - 1) {
    Int8ConvWeights w = pack(c, in(graph, op, 1), rq, kWidenedCin);
    choose_kernel(c, w, tile_g, false, level);
    if (w.pixel_lanes_step != 0)
      return std::make_unique<Int8ConvKernel>(std::move(w), c.cin, c.g, tile_g, kernels, std::move(pool));
  }
  Int8ConvWeights w = pack(c, in(graph, op, 1), std::move(rq), c.cin);
  w.pointwise = c.kh == 1 && c.kw == 1 && tile_g.stride_h == 1 && tile_g.stride_w == 1 &&
                tile_g.pad_top == 0 && tile_g.pad_left == 0;
  choose_kernel(c, w, tile_g, false, level);
  return std::make_unique<Int8ConvKernel>(std::move(w), c.cin, c.g, tile_g, kernels, std::move(pool));
}

}  // namespace

std::unique_ptr<Kernel> make_int8_conv(const Graph& graph, const Op& op, Int8Level level,
                                       std::shared_ptr<pthreadpool> pool) {
  return make(graph, op, nullptr, level, std::move(pool));
}

std::unique_ptr<Kernel> make_int8_conv_after_pad(const Graph& graph, const Int8SpatialPad& pad, const Op& op,
                                                 Int8Level level, std::shared_ptr<pthreadpool> pool) {
  return make(graph, op, &pad, level, std::move(pool));
}

}  // namespace osprey
