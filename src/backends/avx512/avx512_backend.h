// osprey's own AVX-512 kernels as a backend ("osprey-avx512"), for the ops
// where Debian's XNNPACK is slow: 1x1 convolutions with mostly-zero weights
// (sparse_conv.h), 3x3/5x5 depthwise convolutions (depthwise_conv.h), each
// with the zero PAD before it and the RELU/RELU6/RELU_N1_TO_1 after it
// folded in where only it reads them, and ADDs of two tensors of one shape
// (add.h: XNNPACK runs them on one thread); and int8/uint8 dense (up to 7x7) and
// depthwise 3x3/5x5 convolutions with VNNI (+VBMI), plain AVX-512 or AVX2 (int8_cpu.h),
// PRELU, AVERAGE_POOL_2D, MAX_POOL_2D (XNNPACK's is slow) and the one-input ops XNNPACK has no integer form
// for (int8_kernels.h), bit-exact to the integer reference kernels. On a CPU
// without AVX-512 it claims only those int8 ops (with AVX2), and nothing
// without AVX2. Put it before "xnnpack" in a stack (backend.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/delegate.h"

struct pthreadpool;

namespace osprey {

struct Avx512Options {
  // 1x1 convolutions whose weights have at least this fraction of zeros run
  // on the sparse kernel (0: never).
  double sparse_min_zeros = 0.5;
  // 3x3 and 5x5 depthwise convolutions (stride 1 or 2, multiplier 1, no
  // dilation) run on the depthwise kernel.
  bool depthwise = true;
  // ADDs of two float32 tensors of one shape run on the ADD kernel (add.h),
  // split over the threads as the operations around them are.
  bool add = true;
  // int8/uint8 dense convolutions (windows up to 7x7), 3x3/5x5 depthwise
  // convolutions and the elementwise and pooling ops of int8_kernels.h run on
  // the int8 kernels at the level int8_level() gives.
  bool int8 = true;
};

class Avx512Backend final : public Delegate {
 public:
  // `pool`: the threads to split work over (null: the caller's thread).
  explicit Avx512Backend(std::shared_ptr<pthreadpool> pool = nullptr, const Avx512Options& options = {});
  ~Avx512Backend() override;

  std::string name() const override { return "osprey-avx512"; }
  std::vector<DelegatedRun> partition(const Graph& graph, const std::vector<const Op*>& ops,
                                      PackedSteps& packed) override;

 private:
  std::shared_ptr<pthreadpool> pool_;
  Avx512Options options_;
};

}  // namespace osprey
