// TRANSPOSE and DEPTH_TO_SPACE (declared in layout_kernels.h): copies that
// reorder elements by a permutation fixed at prepare.
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/ref/layout_helpers.h"
#include "kernels/ref/layout_kernels.h"

namespace osprey::ref::layout {

void TransposeKernel::prepare(KernelContext& ctx) {
  copy_.elem = check_copy_io(ctx, 2, 2);
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const int rank = in.rank();
  OSPREY_CHECK(rank <= 6, "rank {} is above the supported 6", rank);
  const Tensor& perm_tensor = ctx.input(1);
  const std::vector<int64_t> perm = constant_ints(ctx, 1, "perm", true);
  OSPREY_CHECK(perm_tensor.rank() == 1, "perm has shape {}, expected a vector", shape_str(perm_tensor.shape));
  OSPREY_CHECK(static_cast<int>(perm.size()) == rank, "perm has {} entries, expected {}", perm.size(), rank);
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t p : perm) {
    OSPREY_CHECK(p >= 0 && p < rank, "perm entry {} is out of range for rank {}", p, rank);
    OSPREY_CHECK(!seen[static_cast<size_t>(p)], "perm repeats {}", p);
    seen[static_cast<size_t>(p)] = true;
  }
  // Output dimension d walks input dimension perm[d].
  const std::vector<int64_t> in_strides = strides_of(in.shape);
  Shape shape;
  copy_.in_steps.clear();
  for (int64_t p : perm) {
    shape.push_back(in.dim(static_cast<int>(p)));
    copy_.in_steps.push_back(in_strides[static_cast<size_t>(p)]);
  }
  out.shape = shape;
  copy_.counts.assign(shape.begin(), shape.end());
  copy_.out_steps = strides_of(shape);
}

void TransposeKernel::eval(KernelContext& ctx) {
  copy_.run(ctx.input(0).data, ctx.output(0).data);
}

void DepthToSpaceKernel::prepare(KernelContext& ctx) {
  elem_ = check_copy_io(ctx, 1, 1);
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  OSPREY_CHECK(in.rank() == 4, "input has rank {}, expected 4", in.rank());
  block_ = options_or_default<DepthToSpaceOptions>(ctx).block_size;
  OSPREY_CHECK(block_ >= 1 && block_ <= 1 << 15, "block_size {} is out of range", block_);
  const int64_t cells = int64_t{block_} * block_;
  OSPREY_CHECK(in.dim(3) % cells == 0, "depth {} is not a multiple of block_size^2 = {}", in.dim(3), cells);
  out.shape =
      make_shape({in.dim(0), int64_t{in.dim(1)} * block_, int64_t{in.dim(2)} * block_, in.dim(3) / cells});
  in_shape_ = in.shape;
  out_shape_ = out.shape;
}

// output[b, h*bs + dh, w*bs + dw, c] = input[b, h, w, (dh*bs + dw)*depth_out + c]:
// the bs output pixels of one input pixel in one output row are one
// contiguous run of bs * depth_out input channels, copied at once (a copy a
// pixel, with its divisions, took 2-3x as long on 24-channel outputs).
void DepthToSpaceKernel::eval(KernelContext& ctx) {
  const uint8_t* in = ctx.input(0).data;
  uint8_t* out = ctx.output(0).data;
  const size_t bs = static_cast<size_t>(block_);
  const size_t in_h = static_cast<size_t>(in_shape_[1]), in_w = static_cast<size_t>(in_shape_[2]);
  const size_t in_pixel = static_cast<size_t>(in_shape_[3]) * elem_;
  const size_t run = bs * static_cast<size_t>(out_shape_[3]) * elem_;  // bytes of bs output pixels
  if (run == 0) return;
  for (size_t row = 0; row < static_cast<size_t>(in_shape_[0]) * in_h; ++row) {  // b * in_h + iy
    const uint8_t* from = in + row * in_w * in_pixel;
    for (size_t dy = 0; dy < bs; ++dy) {
      for (size_t ix = 0; ix < in_w; ++ix, out += run) std::memcpy(out, from + ix * in_pixel + dy * run, run);
    }
  }
}

}  // namespace osprey::ref::layout
