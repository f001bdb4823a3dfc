// 1x1 convolutions (stride 1) whose weights are mostly zeros, as MediaPipe's
// "sparse" models have them (DENSIFY-ed at load: 50-75% zeros, unstructured).
// XNNPACK's dense GEMM multiplies all those zeros; Debian's XNNPACK has a
// sparse path only in NCHW with SSE kernels. This one keeps osprey's NHWC
// tensors: it transposes tiles of 32 pixels, multiplies them by the weights
// in CSR form with the pixels in the vector lanes (AVX-512: two vectors a
// tile; AVX2 and FMA: four), and transposes the result back.
#pragma once

#include <memory>

#include "kernels/kernel.h"

struct pthreadpool;

namespace osprey {

enum class SparseConvLevel { kNone = 0, kAvx2 = 1, kAvx512 = 2 };

// The form of the sparse kernel this CPU runs: AVX-512F, else AVX2 with FMA,
// else none. OSPREY_SPARSE_CONV=avx512|avx2|none caps it (so that tests and
// benchmarks can run the AVX2 form on a CPU with AVX-512); read at each call.
SparseConvLevel sparse_conv_level();
// Whether this CPU runs the sparse kernel at all (sparse_conv_level() is not kNone).
bool sparse_conv_supported();

// Fraction of exact zeros in `count` floats.
double zero_fraction(const float* values, size_t count);

// A kernel for one 1x1, stride-1, ungrouped CONV_2D over NHWC float32:
// weights [cout, cin] (copied), bias [cout] or null, output clamped to
// [min, max], in the form sparse_conv_level() says. Inputs of the op it
// runs: (input); outputs: (output).
std::unique_ptr<Kernel> make_sparse_conv(const float* weights, const float* bias, int cout, int cin,
                                         float min, float max, std::shared_ptr<pthreadpool> pool);

}  // namespace osprey
