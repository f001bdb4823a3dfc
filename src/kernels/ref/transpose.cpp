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
// each output pixel is one contiguous run of depth_out input channels.
void DepthToSpaceKernel::eval(KernelContext& ctx) {
  const uint8_t* in = ctx.input(0).data;
  uint8_t* out = ctx.output(0).data;
  const int64_t in_h = in_shape_[1], in_w = in_shape_[2], in_c = in_shape_[3];
  const int64_t out_h = out_shape_[1], out_w = out_shape_[2], out_c = out_shape_[3];
  const size_t run = static_cast<size_t>(out_c) * elem_;
  for (int64_t b = 0; b < out_shape_[0]; ++b) {
    for (int64_t oy = 0; oy < out_h; ++oy) {
      for (int64_t ox = 0; ox < out_w; ++ox) {
        const int64_t iy = oy / block_, ix = ox / block_;
        const int64_t ic = ((oy % block_) * block_ + ox % block_) * out_c;
        const int64_t src = ((b * in_h + iy) * in_w + ix) * in_c + ic;
        const int64_t dst = ((b * out_h + oy) * out_w + ox) * out_c;
        if (run > 0)
          std::memcpy(out + static_cast<size_t>(dst) * elem_, in + static_cast<size_t>(src) * elem_, run);
      }
    }
  }
}

}  // namespace osprey::ref::layout
