// Integer RESIZE_BILINEAR as LiteRT computes it on the CPU (XNNPACK's
// ibilinear kernels, which TFLite's XNNPACK delegate uses for int8/uint8):
// per output pixel the source position is found in float
//   align_corners:        pos = i * (in - 1) / (out - 1)
//   legacy (neither):     pos = i * in / out
//   half_pixel_centers:   pos = clamp(i * in / out + (in / out) / 2 - 0.5, 0, in - 1)
// and its fractional parts become 11-bit weights a = lrint(frac * 2048). Then,
// in integers,
//   top = tl * 2048 + (tr - tl) * ax,  bottom = bl * 2048 + (br - bl) * ax,
//   out = (top * 2048 + (bottom - top) * ay + 2^21) >> 22.
// TFLite's own reference (ResizeBilinearInteger: 10-bit weights, rounding half
// away from zero) can differ from this by one; the float-registered kernel in
// ../resize.cpp implements that one and runs when the TFLite arithmetic is
// selected (fixed_point.h). Input and output share their parameters.
#include <cstdint>
#include <vector>

#include "core/limits.h"
#include "kernels/kernel.h"
#include "kernels/ref/quantized/bilinear_taps.h"
#include "kernels/ref/quantized/common.h"

namespace osprey::ref {
extern const KernelFactory resize_bilinear_kernel;  // src/kernels/ref/resize.cpp
}  // namespace osprey::ref

namespace osprey::ref::quantized {
namespace {

using Tap = quant::BilinearTap;

class ResizeBilinear final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    if (quant::arithmetic() != quant::Arithmetic::kLiteRT) {
      // TFLite's reference arithmetic: the float-registered kernel implements it for int8/uint8.
      tflite_ = osprey::ref::resize_bilinear_kernel();
      tflite_->prepare(ctx);
      return;
    }
    OSPREY_CHECK(ctx.num_inputs() == 2 && ctx.num_outputs() == 1, "expected 2 inputs and 1 output");
    const Tensor& in = ctx.input(0);
    const Tensor& size = ctx.input(1);
    Tensor& out = ctx.output(0);
    check_shape(in, "input", 4);
    type_ = in.type;
    check_shared_params(in, out, type_);
    OSPREY_CHECK(
        size.is_constant && size.data != nullptr && size.type == DType::kInt32 && size.num_elements() == 2,
        "size must be a constant int32 [2]");
    const int32_t oh = size.data_as<int32_t>()[0], ow = size.data_as<int32_t>()[1];
    OSPREY_CHECK(oh > 0 && ow > 0, "output size {}x{} is not positive", oh, ow);
    bool align = false, half = false;
    if (std::holds_alternative<ResizeOptions>(ctx.op().options)) {
      align = ctx.options<ResizeOptions>().align_corners;
      half = ctx.options<ResizeOptions>().half_pixel_centers;
    }
    OSPREY_CHECK(!(align && half), "align_corners and half_pixel_centers cannot both be set");
    n_ = in.dim(0);
    ih_ = in.dim(1);
    iw_ = in.dim(2);
    c_ = in.dim(3);
    oh_ = oh;
    ow_ = ow;
    out.shape = {n_, oh, ow, c_};
    // Before the tap tables, which grow with the output: a hostile size asked for gigabytes.
    // An empty output (zero channels or batches) needs no taps: a fuzzed
    // 16777216-wide one spent seconds on tables for nothing.
    rows_.clear();
    cols_.clear();
    if (limits::checked_elements(out.shape, "output") == 0) return;
    rows_ = quant::bilinear_taps(ih_, oh, align, half);
    cols_ = quant::bilinear_taps(iw_, ow, align, half);
  }

  void eval(KernelContext& ctx) override {
    if (tflite_) {
      tflite_->eval(ctx);
      return;
    }
    if (type_ == DType::kInt8) {
      run(ctx.input(0).data_as<int8_t>(), ctx.output(0).data_as<int8_t>());
    } else {
      run(ctx.input(0).data_as<uint8_t>(), ctx.output(0).data_as<uint8_t>());
    }
  }

 private:
  template <typename T>
  void run(const T* in, T* out) const {
    for (int b = 0; b < n_; ++b) {
      for (const Tap& ty : rows_) {
        for (const Tap& tx : cols_) {
          const T* tl = in + ((int64_t{b} * ih_ + ty.lo) * iw_ + tx.lo) * c_;
          const T* tr = in + ((int64_t{b} * ih_ + ty.lo) * iw_ + tx.hi) * c_;
          const T* bl = in + ((int64_t{b} * ih_ + ty.hi) * iw_ + tx.lo) * c_;
          const T* br = in + ((int64_t{b} * ih_ + ty.hi) * iw_ + tx.hi) * c_;
          for (int c = 0; c < c_; ++c) {
            const int32_t top = int32_t{tl[c]} * 2048 + (int32_t{tr[c]} - tl[c]) * tx.weight;
            const int32_t bottom = int32_t{bl[c]} * 2048 + (int32_t{br[c]} - bl[c]) * tx.weight;
            const int32_t acc = top * 2048 + (bottom - top) * ty.weight;
            *out++ = static_cast<T>((acc + (1 << 21)) >> 22);
          }
        }
      }
    }
  }

  DType type_ = DType::kInt8;
  int n_ = 0, ih_ = 0, iw_ = 0, c_ = 0, oh_ = 0, ow_ = 0;
  std::vector<Tap> rows_, cols_;
  std::unique_ptr<Kernel> tflite_;  // TFLite's reference arithmetic, when selected
};

}  // namespace

// Factories the op registry (src/ops) names.
extern const KernelFactory resize_bilinear_kernel = make_kernel<ResizeBilinear>;

}  // namespace osprey::ref::quantized
