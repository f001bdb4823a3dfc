// BATCH_MATMUL: out[..., m, n] = sum_k x[..., m, k] * y[..., k, n] (adj_x / adj_y
// read x or y with their last two dimensions swapped); the batch dimensions
// broadcast as in numpy. Float32 only.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/kernel.h"

namespace osprey::ref {
namespace {

constexpr int kMaxRank = 6;

class BatchMatMulFloat final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(ctx.num_inputs() == 2 && ctx.num_outputs() == 1,
                 "has {} inputs and {} outputs, expected 2 and 1", ctx.num_inputs(), ctx.num_outputs());
    const Tensor& x = ctx.input(0);
    const Tensor& y = ctx.input(1);
    for (const Tensor* t : {&x, &y}) {
      OSPREY_CHECK(t->type == DType::kFloat32, "{} inputs are not supported (float32)", dtype_name(t->type));
      OSPREY_CHECK(t->rank() >= 2 && t->rank() <= kMaxRank, "input rank {} is outside 2..{}", t->rank(),
                   kMaxRank);
      for (int32_t d : t->shape)
        OSPREY_CHECK(d >= 0, "shape {} has a negative dimension", shape_str(t->shape));
    }
    OSPREY_CHECK(ctx.output(0).type == DType::kFloat32, "output is {}, expected float32",
                 dtype_name(ctx.output(0).type));
    const auto& o = ctx.options<BatchMatMulOptions>();
    adj_x_ = o.adj_x;
    adj_y_ = o.adj_y;
    m_ = x.dim(x.rank() - (adj_x_ ? 1 : 2));
    k_ = x.dim(x.rank() - (adj_x_ ? 2 : 1));
    const int64_t ky = y.dim(y.rank() - (adj_y_ ? 1 : 2));
    n_ = y.dim(y.rank() - (adj_y_ ? 2 : 1));
    OSPREY_CHECK(k_ == ky, "inner dimensions differ: {} and {}", k_, ky);

    // Batch dimensions, right-aligned to the longer of the two.
    const int batch_rank = std::max(x.rank(), y.rank()) - 2;
    Shape out_shape;
    x_steps_.assign(static_cast<size_t>(batch_rank), 0);
    y_steps_.assign(static_cast<size_t>(batch_rank), 0);
    batch_.assign(static_cast<size_t>(batch_rank), 1);
    int64_t x_stride = m_ * k_, y_stride = k_ * n_;
    for (int d = batch_rank - 1; d >= 0; --d) {
      const int xd = d - (batch_rank - (x.rank() - 2)), yd = d - (batch_rank - (y.rank() - 2));
      const int32_t dx = xd >= 0 ? x.dim(xd) : 1, dy = yd >= 0 ? y.dim(yd) : 1;
      OSPREY_CHECK(dx == dy || dx == 1 || dy == 1, "batch dimensions {} and {} do not broadcast", dx, dy);
      batch_[static_cast<size_t>(d)] = std::max(dx, dy);
      if (dx != 1) x_steps_[static_cast<size_t>(d)] = x_stride;
      if (dy != 1) y_steps_[static_cast<size_t>(d)] = y_stride;
      x_stride *= dx;
      y_stride *= dy;
    }
    out_shape.assign(batch_.begin(), batch_.end());
    out_shape.push_back(static_cast<int32_t>(m_));
    out_shape.push_back(static_cast<int32_t>(n_));
    ctx.output(0).shape = out_shape;
  }

  void eval(KernelContext& ctx) override {
    const float* x = ctx.input(0).data_as<float>();
    const float* y = ctx.input(1).data_as<float>();
    float* out = ctx.output(0).data_as<float>();
    int64_t batches = 1;
    for (int32_t d : batch_) batches *= d;
    // x[m, k] and y[k, n] element steps, after adj_x / adj_y.
    const int64_t xm = adj_x_ ? 1 : k_, xk = adj_x_ ? m_ : 1;
    const int64_t yk = adj_y_ ? 1 : n_, yn = adj_y_ ? k_ : 1;
    for (int64_t b = 0; b < batches; ++b) {
      int64_t rest = b, xo = 0, yo = 0;
      for (size_t d = batch_.size(); d-- > 0;) {
        const int64_t coord = rest % batch_[d];
        rest /= batch_[d];
        xo += coord * x_steps_[d];
        yo += coord * y_steps_[d];
      }
      float* o = out + b * m_ * n_;
      for (int64_t i = 0; i < m_; ++i) {
        for (int64_t j = 0; j < n_; ++j) {
          float sum = 0.0f;
          for (int64_t k = 0; k < k_; ++k) sum += x[xo + i * xm + k * xk] * y[yo + k * yk + j * yn];
          o[i * n_ + j] = sum;
        }
      }
    }
  }

 private:
  bool adj_x_ = false, adj_y_ = false;
  int64_t m_ = 0, k_ = 0, n_ = 0;
  std::vector<int32_t> batch_;
  std::vector<int64_t> x_steps_, y_steps_;
};

}  // namespace

extern const KernelFactory batch_matmul_kernel = make_kernel<BatchMatMulFloat>;

}  // namespace osprey::ref
