#include "backends/avx512/int8_kernels.h"

#include <pthreadpool.h>

#include <cstdlib>
#include <vector>

#include "backends/avx512/int8_avx2.h"
#include "backends/avx512/int8_microkernels.h"
#include "backends/avx512/int8_pad.h"
#include "backends/op_checks.h"
#include "core/error.h"

namespace osprey {

namespace {

using namespace backend_checks;

constexpr int kLanes = 16;

struct Claim {
  int kernel = 3, stride = 1, channels = 0;
  int n = 0, h = 0, w = 0, oh = 0, ow = 0, pad_top = 0, pad_left = 0;
  Activation activation = Activation::kNone;
};

// `pad`, when given, is a PAD the convolution reads the input of (int8_pad.h).
bool claims(const Graph& graph, const Op& op, const Int8SpatialPad* pad, Claim& c) {
  if (op.index < 0 || op.code != static_cast<int32_t>(OpCode::kDepthwiseConv2D) || *io_mismatch(op, 2, 3, 1))
    return false;
  const Tensor& input = in(graph, op, 0);
  const Tensor& filter = in(graph, op, 1);
  const Tensor& output = out(graph, op);
  if (!is_int8_activation(input) || !is_int8_activation(output) || output.type != input.type) return false;
  const auto opt = options_of<DepthwiseConv2DOptions>(op);
  c.kernel = filter.rank() == 4 ? filter.dim(1) : 0;
  c.stride = opt.stride_h;
  c.channels = input.dim(3);
  if (filter.rank() != 4 || filter.dim(0) != 1 || filter.dim(2) != c.kernel || filter.dim(3) != c.channels)
    return false;
  if ((c.kernel != 3 && c.kernel != 5) || opt.stride_w != c.stride || (c.stride != 1 && c.stride != 2) ||
      opt.dilation_h != 1 || opt.dilation_w != 1) {
    return false;
  }
  Window y, x;
  if (!window(input.dim(1), c.kernel, c.stride, 1, opt.padding, y) ||
      !window(input.dim(2), c.kernel, c.stride, 1, opt.padding, x)) {
    return false;
  }
  if (output.shape !=
      Shape{input.dim(0), static_cast<int32_t>(y.out), static_cast<int32_t>(x.out), c.channels})
    return false;
  c.n = input.dim(0);
  c.h = input.dim(1);
  c.w = input.dim(2);
  c.oh = static_cast<int>(y.out);
  c.ow = static_cast<int>(x.out);
  c.pad_top = static_cast<int>(y.before);
  c.pad_left = static_cast<int>(x.before);
  if (pad) {
    c.h -= pad->top + pad->bottom;
    c.w -= pad->left + pad->right;
    c.pad_top += pad->top;
    c.pad_left += pad->left;
  }
  c.activation = opt.activation;
  return true;
}

// Weights [1, K, K, C] as bytes for vpdpbusd, the bias and zero-point terms
// folded as the dense convolution folds them (int8_microkernels.h).
Int8DepthwiseWeights pack(const Claim& c, const Tensor& filter, Int8Requant rq) {
  Int8DepthwiseWeights w;
  w.kernel = c.kernel;
  w.stride = c.stride;
  w.channels = c.channels;
  w.blocks = (c.channels + kLanes - 1) / kLanes;
  const uint8_t* bytes = filter.data_as<uint8_t>();
  const int rows = w.rows_per_pass = int8_depthwise_rows_per_pass(c.kernel, c.stride);
  w.row_groups = ((rows - 1) * c.stride + c.kernel + 3) / 4;
  const size_t per_block = static_cast<size_t>(rows) * w.row_groups * c.kernel * kLanes * 4;
  w.column_bytes.assign(static_cast<size_t>(w.blocks) * per_block, 0);
  w.init.assign(static_cast<size_t>(w.blocks) * kLanes, 0);
  // Per channel, the sum of |w| (int8) or |w - w_zp| (uint8): int8_requant_packs' bound.
  std::vector<int64_t> magnitudes(static_cast<size_t>(c.channels));
  for (int ch = 0; ch < c.channels; ++ch) {
    int64_t sum = 0;  // sum of w (int8) or of w - w_zp (uint8)
    for (int ky = 0; ky < c.kernel; ++ky) {
      for (int kx = 0; kx < c.kernel; ++kx) {
        const Int8ByteWeight weight =
            int8_byte_weight(rq, bytes[static_cast<size_t>(ky * c.kernel + kx) * c.channels + ch]);
        sum += weight.sum_term;
        magnitudes[static_cast<size_t>(ch)] += std::abs(weight.sum_term);
        for (int r = 0; r < rows; ++r) {
          const int row = r * c.stride + ky;  // the input row of the pass it multiplies
          const size_t at = static_cast<size_t>(ch / kLanes) * per_block +
                            ((static_cast<size_t>(r) * w.row_groups + row / 4) * c.kernel + kx) * kLanes * 4 +
                            static_cast<size_t>(ch % kLanes) * 4 + row % 4;
          w.column_bytes[at] = weight.packed;
        }
      }
    }
    w.init[static_cast<size_t>(ch)] = int8_folded_init(rq, ch, sum);
  }
  w.input_sum_factor = int8_input_sum_factor(rq);
  for (int r = 0; r < rows; ++r) {
    for (int g = 0; g < w.row_groups; ++g) {
      uint32_t ones = 0;
      for (int b = 0; b < 4; ++b) {
        const int ky = 4 * g + b - r * c.stride;
        if (ky >= 0 && ky < c.kernel) ones |= 1u << (8 * b);
      }
      w.row_ones.push_back(ones);
    }
  }
  w.packs = int8_requant_packs(rq, magnitudes);
  w.rq = std::move(rq);
  return w;
}

// Whether a window gathers its rows (Int8DepthwiseGathered): 5x5 ones, at
// both strides, on maps of every size. Measured per layer against the tiles
// (2026-12-04, Zen 5, one thread): 1.7x on 96x96x32 and 48x48x64, 1.3x on
// 28x28x240 and 14x14x672, 1.1x on 7x7x1152 and 6x6x256 at stride 1;
// 1.2-1.7x at stride 2 (a tile there gathers 19 columns of 2 groups for 8
// pixels). 3x3 windows ran 10-60% slower this way: a tile of 2 rows reads
// few columns per product, and deriving a group costs about the uops of
// gathering it, in fewer shuffles.
bool gathers_rows_first(const Claim& c) {
  return c.kernel == 5;
}

struct Task {
  const Int8DepthwiseJob* job;
  void (*pass)(const Int8DepthwiseJob&, int, int);
};

void run_task(void* context, size_t pass, size_t block) {
  const Task& task = *static_cast<const Task*>(context);
  task.pass(*task.job, static_cast<int>(block), static_cast<int>(pass));
}

class Int8DepthwiseKernel final : public Kernel {
 public:
  Int8DepthwiseKernel(Int8DepthwiseWeights w, const Claim& c, const Int8Microkernels* kernels,
                      std::shared_ptr<pthreadpool> pool)
      : w_(std::move(w)),
        c_(c),
        gathered_rows_(gathers_rows_first(c)),
        pass_(gathered_rows_ ? kernels->depthwise5_gathered[c.stride == 2]
                             : kernels->depthwise3[c.stride == 2]),
        pool_(std::move(pool)) {
    if (gathered_rows_) gathered_.resize(int8_depthwise_gathered_bytes(c.n, c.oh, c.ow, w_.blocks, c.stride));
  }

  void prepare(KernelContext& ctx) override {
    check_built_shapes(ctx, "int8 depthwise convolution", Shape({c_.n, c_.h, c_.w, c_.channels}),
                       Shape({c_.n, c_.oh, c_.ow, c_.channels}));
  }

  void eval(KernelContext& ctx) override {
    const Int8DepthwiseJob job{&w_,
                               c_.n,
                               c_.h,
                               c_.w,
                               c_.oh,
                               c_.ow,
                               c_.pad_top,
                               c_.pad_left,
                               ctx.input(0).data_as<uint8_t>(),
                               ctx.output(0).data_as<uint8_t>(),
                               gathered_.data()};
    Task task{&job, pass_};
    // Rows outermost, as in the float depthwise kernel: each thread's share
    // is whole rows, so a thread mostly reads what it wrote itself. Gathered
    // rows: a task is a band of an image's block.
    const size_t passes = static_cast<size_t>(
        gathered_rows_ ? int8_depthwise_gathered(c_.n, c_.oh, c_.ow, w_.blocks, c_.stride).bands
                       : (c_.oh + w_.rows_per_pass - 1) / w_.rows_per_pass);
    pthreadpool_parallelize_2d(pool_.get(), run_task, &task, static_cast<size_t>(c_.n) * passes,
                               static_cast<size_t>(w_.blocks), 0);
  }

 private:
  Int8DepthwiseWeights w_;
  Claim c_;
  bool gathered_rows_;  // 5x5, gathers_rows_first()
  void (*pass_)(const Int8DepthwiseJob&, int, int);
  std::vector<uint8_t> gathered_;  // 5x5: the rows the tiles read (int8_microkernels.h)
  std::shared_ptr<pthreadpool> pool_;
};

std::unique_ptr<Kernel> make(const Graph& graph, const Op& op, const Int8SpatialPad* pad, Int8Level level,
                             std::shared_ptr<pthreadpool> pool) {
  Claim c;
  if (level == Int8Level::kNone || !claims(graph, op, pad, c)) return nullptr;
  Int8Requant rq;
  if (!int8_requant_params(graph, op, c.channels, 3, c.activation, rq)) return nullptr;
  if (level == Int8Level::kAvx2) {
    const Int8Avx2DepthwiseShape shape{c.kernel, c.stride, c.channels, c.n,       c.h,
                                       c.w,      c.oh,     c.ow,       c.pad_top, c.pad_left};
    return make_int8_depthwise_conv_avx2(shape, in(graph, op, 1).data_as<uint8_t>(), std::move(rq),
                                         std::move(pool));
  }
  const Int8Microkernels* kernels = int8_microkernels(level);
  if (!kernels) return nullptr;
  return std::make_unique<Int8DepthwiseKernel>(pack(c, in(graph, op, 1), std::move(rq)), c, kernels,
                                               std::move(pool));
}

}  // namespace

std::unique_ptr<Kernel> make_int8_depthwise_conv(const Graph& graph, const Op& op, Int8Level level,
                                                 std::shared_ptr<pthreadpool> pool) {
  return make(graph, op, nullptr, level, std::move(pool));
}

std::unique_ptr<Kernel> make_int8_depthwise_conv_after_pad(const Graph& graph, const Int8SpatialPad& pad,
                                                           const Op& op, Int8Level level,
                                                           std::shared_ptr<pthreadpool> pool) {
  return make(graph, op, &pad, level, std::move(pool));
}

}  // namespace osprey
