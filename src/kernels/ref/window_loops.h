// The loop nests of the reference convolution family, shared by the float and the
// integer kernels: they differ only in what one tap adds to the accumulator and how
// an accumulator becomes an output value, which a policy supplies.
//
// Each nest visits the data, and sums the taps, in the order of TFLite's reference
// kernels. The geometry comes from kernels/geometry.h, whose checks keep every
// coordinate computed here within int.
//
// A product policy P (conv, depthwise, fully connected, transposed conv) has
//   using Acc = ...;                               float, or uint32_t (the sum modulo 2^32) for integers
//   Acc product(T input, T weight) const;          one tap
//   T finish(Acc acc, int channel) const;          bias and activation / requantization
// A pooling policy P has
//   using Acc = ...;
//   Acc start() const;  void add(Acc& acc, T value) const;
//   T finish(Acc acc, int64_t count) const;        count: elements inside the clipped window
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/geometry.h"

namespace osprey::ref {

// CONV_2D (grouped when the filter has fewer channels than the input) and
// DEPTHWISE_CONV_2D (one input channel per group); see ConvGeometry.
//
// Each output sums its taps in TFLite's order (ky, kx, input channel), but the
// window is walked once for a block of output channels whose sums stay on the
// stack: a depthwise tap then reads its channels side by side (5x faster than a
// window walk per channel).
template <typename T, typename P>
void conv_loops(const geometry::ConvGeometry& g, const T* input, const T* filter, T* output,
                const P& policy) {
  constexpr int kBlock = 64;
  // One input channel, one output channel, per group: plain depthwise.
  const bool channelwise = g.group_channels == 1 && g.filters_per_group == 1;
  for (int b = 0; b < g.out.n; ++b) {
    for (int oy = 0; oy < g.out.h; ++oy) {
      const int in_y0 = oy * g.stride_h - g.pad_h;
      for (int ox = 0; ox < g.out.w; ++ox) {
        const int in_x0 = ox * g.stride_w - g.pad_w;
        for (int oc0 = 0; oc0 < g.out.c; oc0 += kBlock) {
          const int count = std::min(kBlock, g.out.c - oc0);
          typename P::Acc acc[kBlock] = {};
          for (int ky = 0; ky < g.filter.h; ++ky) {
            const int in_y = in_y0 + ky * g.dilation_h;
            for (int kx = 0; kx < g.filter.w; ++kx) {
              const int in_x = in_x0 + kx * g.dilation_w;
              if (!g.in.inside(in_y, in_x)) continue;  // zero padding
              const T* pixel = input + g.in.offset(b, in_y, in_x, 0);
              const T* tap = filter + (int64_t{ky} * g.filter.w + kx) * g.filter_tap_step;
              if (channelwise) {
                for (int i = 0; i < count; ++i) {
                  const int oc = oc0 + i;
                  acc[i] += policy.product(pixel[oc], tap[oc * g.filter_oc_step]);
                }
                continue;
              }
              for (int i = 0; i < count; ++i) {
                const int oc = oc0 + i;
                const T* x = pixel + (oc / g.filters_per_group) * g.group_channels;
                const T* w = tap + oc * g.filter_oc_step;
                for (int ic = 0; ic < g.group_channels; ++ic) acc[i] += policy.product(x[ic], w[ic]);
              }
            }
          }
          for (int i = 0; i < count; ++i)
            output[g.out.offset(b, oy, ox, oc0 + i)] = policy.finish(acc[i], oc0 + i);
        }
      }
    }
  }
}

// FULLY_CONNECTED: input [rows, depth], weights [units, depth], output [rows, units].
template <typename T, typename P>
void fully_connected_loops(int64_t rows, int units, int depth, const T* input, const T* weights, T* output,
                           const P& policy) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* x = input + r * depth;
    for (int u = 0; u < units; ++u) {
      const T* w = weights + int64_t{u} * depth;
      typename P::Acc acc{};
      for (int d = 0; d < depth; ++d) acc += policy.product(x[d], w[d]);
      output[r * units + u] = policy.finish(acc, u);
    }
  }
}

// Transposed convolution in TFLite's "scatter" form: every input pixel adds its
// products to each output pixel its window covers; taps outside the output are
// dropped. Adds into `acc` (one accumulator per output element), which the caller
// has initialised and finishes.
template <typename T, typename P>
void transpose_conv_scatter(const geometry::TransposeConvGeometry& g, const T* input, const T* weights,
                            typename P::Acc* acc, const P& policy) {
  for (int b = 0; b < g.in.n; ++b) {
    for (int iy = 0; iy < g.in.h; ++iy) {
      const int out_y0 = iy * g.stride_h - g.pad_h;
      for (int ix = 0; ix < g.in.w; ++ix) {
        const int out_x0 = ix * g.stride_w - g.pad_w;
        for (int ic = 0; ic < g.in.c; ++ic) {
          const T value = input[g.in.offset(b, iy, ix, ic)];
          for (int ky = 0; ky < g.weights.h; ++ky) {
            for (int kx = 0; kx < g.weights.w; ++kx) {
              const int oy = out_y0 + ky;
              const int ox = out_x0 + kx;
              if (!g.out.inside(oy, ox)) continue;
              typename P::Acc* out = acc + g.out.offset(b, oy, ox, 0);
              for (int oc = 0; oc < g.out.c; ++oc)
                out[oc] += policy.product(value, weights[g.weights.offset(oc, ky, kx, ic)]);
            }
          }
        }
      }
    }
  }
}

// AVERAGE_POOL_2D and MAX_POOL_2D. Padding is never read: the window is clipped to
// the input, and is never empty, as window_axis pads by less than a window.
template <typename T, typename P>
void pool2d_loops(const geometry::PoolGeometry& g, const T* input, T* output, const P& policy) {
  for (int b = 0; b < g.out.n; ++b) {
    for (int oy = 0; oy < g.out.h; ++oy) {
      for (int ox = 0; ox < g.out.w; ++ox) {
        const geometry::PoolGeometry::Window w = g.window(oy, ox);
        for (int c = 0; c < g.out.c; ++c) {
          typename P::Acc acc = policy.start();
          for (int y = w.y0; y < w.y1; ++y) {
            for (int x = w.x0; x < w.x1; ++x) policy.add(acc, input[g.in.offset(b, y, x, c)]);
          }
          output[g.out.offset(b, oy, ox, c)] = policy.finish(acc, w.count());
        }
      }
    }
  }
}

}  // namespace osprey::ref
