// Reference RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR on NHWC images,
// following TFLite's reference_ops (resize_bilinear.h, resize_nearest_neighbor.h)
// operation by operation, so that float results match bit for bit:
//   scale  = align_corners && out > 1 ? (in - 1) / (out - 1) : in / out   (float)
//   source = half_pixel_centers ? (i + 0.5) * scale - 0.5 : i * scale
// Bilinear reads rows floor(source) (at least 0) and ceil(source) (at most
// in - 1) with weight source - floor-row; uint8 adds 0.5 before truncating,
// int8/int16 use TFLite's 10-bit fixed-point variant (ResizeBilinearInteger).
// Nearest takes floor(source) (round() with align_corners) clamped to the input.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "kernels/kernel.h"

namespace osprey::ref {

namespace {

// Input and output geometry shared by both resizes.
struct Geometry {
  int64_t batches = 0, in_h = 0, in_w = 0, depth = 0, out_h = 0, out_w = 0;
  bool align_corners = false, half_pixel_centers = false;
};

// Checks the inputs (image [N, H, W, C], constant int32 size [2]) and sets the output shape.
Geometry prepare_resize(KernelContext& ctx) {
  OSPREY_CHECK(ctx.num_inputs() == 2, "expected 2 inputs, got {}", ctx.num_inputs());
  OSPREY_CHECK(ctx.num_outputs() == 1, "expected 1 output, got {}", ctx.num_outputs());
  const Tensor& in = ctx.input(0);
  const Tensor& size = ctx.input(1);
  Tensor& out = ctx.output(0);
  OSPREY_CHECK(in.rank() == 4, "input has rank {}, expected 4", in.rank());
  limits::checked_elements(in.shape, "input");
  OSPREY_CHECK(out.type == in.type, "output type {} differs from input type {}", dtype_name(out.type),
               dtype_name(in.type));
  OSPREY_CHECK(size.is_constant, "dynamic shapes are not supported: input 1 is not constant");
  OSPREY_CHECK(size.type == DType::kInt32, "size must be int32, not {}", dtype_name(size.type));
  OSPREY_CHECK(size.rank() == 1 && size.dim(0) == 2, "size has shape {}, expected [2]",
               shape_str(size.shape));
  OSPREY_CHECK(size.data != nullptr, "size has no data");
  const int32_t height = size.data_as<int32_t>()[0], width = size.data_as<int32_t>()[1];
  OSPREY_CHECK(height > 0 && width > 0, "output size {}x{} is not positive", height, width);
  OSPREY_CHECK(in.dim(1) > 0 && in.dim(2) > 0, "input image {}x{} is empty", in.dim(1), in.dim(2));

  Geometry g;
  g.batches = in.dim(0);
  g.in_h = in.dim(1);
  g.in_w = in.dim(2);
  g.depth = in.dim(3);
  g.out_h = height;
  g.out_w = width;
  if (!std::holds_alternative<std::monostate>(ctx.op().options)) {
    const auto& options = ctx.options<ResizeOptions>();
    g.align_corners = options.align_corners;
    g.half_pixel_centers = options.half_pixel_centers;
  }
  out.shape = {in.dim(0), height, width, in.dim(3)};
  limits::checked_elements(out.shape, "output");
  return g;
}

// TFLite's float scale from input to output coordinates.
float resize_scale(int64_t in_size, int64_t out_size, bool align_corners) {
  if (align_corners && out_size > 1) {
    return static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1);
  }
  return static_cast<float>(in_size) / static_cast<float>(out_size);
}

// A float index converted to an int with a ceiling of `hi`; the comparison in
// double keeps the conversion defined however large the float is.
int64_t index_at_most(float value, int64_t hi) {
  return static_cast<double>(value) >= static_cast<double>(hi) ? hi : static_cast<int64_t>(value);
}

// ---------------------------------------------------------------- RESIZE_BILINEAR

// Where one output row (or column) reads: rows lo and hi, `pos` the source coordinate.
struct FloatTap {
  float pos = 0.0f;
  int64_t lo = 0, hi = 0;
};
struct IntTap {
  int64_t pos = 0;  // source coordinate in 1/1024 units
  int64_t lo = 0, hi = 0;
};

// TFLite's ComputeInterpolationValues. TFLite leaves `lo` unbounded above; the
// clamp only matters where float rounding would make it read past the input.
FloatTap float_tap(int64_t index, float scale, bool half_pixel_centers, int64_t in_size) {
  const float value = static_cast<float>(index);
  FloatTap t;
  t.pos = half_pixel_centers ? (value + 0.5f) * scale - 0.5f : value * scale;
  t.lo = std::max<int64_t>(index_at_most(std::floor(t.pos), in_size - 1), 0);
  t.hi = index_at_most(std::ceil(t.pos), in_size - 1);
  return t;
}

// TFLite's ComputeInterpolationValuesInteger, in int64 so that nothing overflows
// (TFLite's int32 arithmetic gives the same values where it does not).
IntTap int_tap(int64_t index, int64_t scale_10, bool half_pixel_centers, int64_t in_size) {
  IntTap t;
  t.pos = half_pixel_centers ? index * scale_10 + scale_10 / 2 - (1 << 9) : index * scale_10;
  t.lo = std::clamp<int64_t>(t.pos / (1 << 10), 0, in_size - 1);
  t.hi = std::min<int64_t>((t.pos + (1 << 10) - 1) / (1 << 10), in_size - 1);
  return t;
}

// Rounded 10-bit fixed-point scale, as in ResizeBilinearInteger.
int64_t scale_10(int64_t in_size, int64_t out_size, bool align_corners) {
  if (align_corners && out_size > 1) {
    return ((int64_t{1} << 10) * (in_size - 1) + (out_size - 1) / 2) / (out_size - 1);
  }
  return ((int64_t{1} << 10) * in_size + out_size / 2) / out_size;
}

// The taps of every output row and column, from the scale rule (float or
// 10-bit fixed point) and the tap rule that goes with it.
template <typename Scale, typename Tap>
void compute_taps(const KernelContext& ctx, const Geometry& g, Scale (*scale)(int64_t, int64_t, bool),
                  Tap (*tap)(int64_t, Scale, bool, int64_t), std::vector<Tap>& rows, std::vector<Tap>& cols) {
  ctx.reserve_tables(static_cast<size_t>(g.out_h + g.out_w) * sizeof(Tap), "row and column taps");
  rows.reserve(static_cast<size_t>(g.out_h));
  cols.reserve(static_cast<size_t>(g.out_w));
  const Scale sy = scale(g.in_h, g.out_h, g.align_corners);
  const Scale sx = scale(g.in_w, g.out_w, g.align_corners);
  for (int64_t y = 0; y < g.out_h; ++y) rows.push_back(tap(y, sy, g.half_pixel_centers, g.in_h));
  for (int64_t x = 0; x < g.out_w; ++x) cols.push_back(tap(x, sx, g.half_pixel_centers, g.in_w));
}

class ResizeBilinearKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    g_ = prepare_resize(ctx);
    OSPREY_CHECK(!(g_.align_corners && g_.half_pixel_centers),
                 "align_corners and half_pixel_centers cannot both be set");
    type_ = ctx.input(0).type;
    float_rows_.clear();
    float_cols_.clear();
    int_rows_.clear();
    int_cols_.clear();
    // An empty output (zero channels or batches) needs no taps, however wide.
    const bool empty = ctx.output(0).num_elements() == 0;
    switch (type_) {
      case DType::kFloat32:
      case DType::kUInt8:
        if (!empty) compute_taps(ctx, g_, resize_scale, float_tap, float_rows_, float_cols_);
        break;
      case DType::kInt8:
      case DType::kInt16:
        if (!empty) compute_taps(ctx, g_, scale_10, int_tap, int_rows_, int_cols_);
        break;
      default: fail("{} input is not supported", dtype_name(type_));
    }
  }

  void eval(KernelContext& ctx) override {
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    switch (type_) {
      case DType::kFloat32: resize_float(in.data_as<float>(), out.data_as<float>()); break;
      case DType::kUInt8: resize_float(in.data_as<uint8_t>(), out.data_as<uint8_t>()); break;
      case DType::kInt8: resize_integer(in.data_as<int8_t>(), out.data_as<int8_t>()); break;
      default: resize_integer(in.data_as<int16_t>(), out.data_as<int16_t>()); break;
    }
  }

 private:
  int64_t offset(int64_t b, int64_t y, int64_t x) const {
    return ((b * g_.in_h + y) * g_.in_w + x) * g_.depth;
  }

  // The expression keeps TFLite's order of operations (reference ResizeBilinear).
  template <typename T>
  void resize_float(const T* in, T* out) const {
    const float rounding = std::numeric_limits<T>::is_integer ? 0.5f : 0.0f;
    for (int64_t b = 0; b < g_.batches; ++b) {
      for (const FloatTap& ty : float_rows_) {
        const float dy = ty.pos - static_cast<float>(ty.lo);
        for (const FloatTap& tx : float_cols_) {
          const float dx = tx.pos - static_cast<float>(tx.lo);
          const T* p00 = in + offset(b, ty.lo, tx.lo);
          const T* p10 = in + offset(b, ty.hi, tx.lo);
          const T* p01 = in + offset(b, ty.lo, tx.hi);
          const T* p11 = in + offset(b, ty.hi, tx.hi);
          for (int64_t c = 0; c < g_.depth; ++c) {
            *out++ = static_cast<T>(p00[c] * (1 - dy) * (1 - dx) + p10[c] * dy * (1 - dx) +
                                    p01[c] * (1 - dy) * dx + p11[c] * dy * dx + rounding);
          }
        }
      }
    }
  }

  // TFLite's ResizeBilinearInteger: weights in 1/1024, the product in 1/2^20,
  // rounded half away from zero (the default, non-single-rounding build).
  template <typename T>
  void resize_integer(const T* in, T* out) const {
    constexpr int64_t kOne = 1 << 10;
    for (int64_t b = 0; b < g_.batches; ++b) {
      for (const IntTap& ty : int_rows_) {
        const int64_t wy = ty.pos - kOne * ty.lo;
        for (const IntTap& tx : int_cols_) {
          const int64_t wx = tx.pos - kOne * tx.lo;
          const T* p00 = in + offset(b, ty.lo, tx.lo);
          const T* p10 = in + offset(b, ty.hi, tx.lo);
          const T* p01 = in + offset(b, ty.lo, tx.hi);
          const T* p11 = in + offset(b, ty.hi, tx.hi);
          for (int64_t c = 0; c < g_.depth; ++c) {
            const int64_t sum = p00[c] * (kOne - wy) * (kOne - wx) + p10[c] * wy * (kOne - wx) +
                                p01[c] * (kOne - wy) * wx + p11[c] * wy * wx;
            const int64_t round = sum > 0 ? (1 << 19) : -(1 << 19);
            *out++ = static_cast<T>((sum + round) / (1 << 20));
          }
        }
      }
    }
  }

  Geometry g_;
  DType type_ = DType::kFloat32;
  std::vector<FloatTap> float_rows_, float_cols_;
  std::vector<IntTap> int_rows_, int_cols_;
};

// ---------------------------------------------------------------- RESIZE_NEAREST_NEIGHBOR

// TFLite's GetNearestNeighbor.
int64_t nearest_index(int64_t index, int64_t in_size, int64_t out_size, bool align_corners,
                      bool half_pixel_centers) {
  const float scale = resize_scale(in_size, out_size, align_corners);
  const float offset = half_pixel_centers ? 0.5f : 0.0f;
  const float pos = (static_cast<float>(index) + offset) * scale;
  const float source = align_corners ? std::round(pos) : std::floor(pos);
  return std::max<int64_t>(index_at_most(source, in_size - 1), 0);
}

class ResizeNearestNeighborKernel final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    g_ = prepare_resize(ctx);
    elem_ = dtype_size(ctx.input(0).type);
    OSPREY_CHECK(elem_ > 0, "{} input is not supported", dtype_name(ctx.input(0).type));
    rows_.clear();
    cols_.clear();
    if (ctx.output(0).num_elements() == 0) return;  // no index tables for an empty output, however wide
    ctx.reserve_tables(static_cast<size_t>(g_.out_h + g_.out_w) * sizeof(int64_t), "source index tables");
    rows_.reserve(static_cast<size_t>(g_.out_h));
    cols_.reserve(static_cast<size_t>(g_.out_w));
    for (int64_t y = 0; y < g_.out_h; ++y) {
      rows_.push_back(nearest_index(y, g_.in_h, g_.out_h, g_.align_corners, g_.half_pixel_centers));
    }
    for (int64_t x = 0; x < g_.out_w; ++x) {
      cols_.push_back(nearest_index(x, g_.in_w, g_.out_w, g_.align_corners, g_.half_pixel_centers));
    }
  }

  // A copy: each output pixel is the depth-long run of its source pixel.
  void eval(KernelContext& ctx) override {
    const uint8_t* in = ctx.input(0).data;
    uint8_t* out = ctx.output(0).data;
    const size_t run = static_cast<size_t>(g_.depth) * elem_;
    if (run == 0) return;
    for (int64_t b = 0; b < g_.batches; ++b) {
      for (int64_t y : rows_) {
        for (int64_t x : cols_) {
          const int64_t src = ((b * g_.in_h + y) * g_.in_w + x) * g_.depth;
          std::memcpy(out, in + static_cast<size_t>(src) * elem_, run);
          out += run;
        }
      }
    }
  }

 private:
  Geometry g_;
  size_t elem_ = 0;
  std::vector<int64_t> rows_, cols_;  // source row of each output row, column of each column
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory resize_bilinear_kernel = make_kernel<ResizeBilinearKernel>;
extern const KernelFactory resize_nearest_neighbor_kernel = make_kernel<ResizeNearestNeighborKernel>;

}  // namespace osprey::ref
