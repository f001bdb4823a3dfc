// kernels/geometry.h against naive formulas written from the definitions (count the
// window positions, place the padding), on every small size, and at the extremes.
#include "kernels/geometry.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/limits.h"

namespace osprey::geometry {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// Output size by counting window starts: SAME starts every `stride` from 0 while the
// start is inside the input; VALID while the whole dilated window fits.
int64_t naive_out(int64_t in, int64_t effective, int64_t stride, Padding padding) {
  int64_t count = 0;
  for (int64_t start = 0; start < in; start += stride) {
    if (padding == Padding::kSame || start + effective <= in) ++count;
  }
  return count;
}

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void expect_one_line_error(const std::string& error, const std::string& fragment) {
  EXPECT_NE(error.find(fragment), std::string::npos) << "error was: '" << error << "'";
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(Geometry, WindowAxisMatchesNaiveCounting) {
  for (int in = 1; in <= 12; ++in) {
    for (int filter = 1; filter <= 5; ++filter) {
      for (int stride = 1; stride <= 4; ++stride) {
        for (int dilation = 1; dilation <= 3; ++dilation) {
          for (Padding padding : {Padding::kSame, Padding::kValid}) {
            const int effective = (filter - 1) * dilation + 1;
            SCOPED_TRACE(::testing::Message()
                         << "in " << in << " filter " << filter << " stride " << stride << " dilation "
                         << dilation << " same " << (padding == Padding::kSame));
            if (padding == Padding::kValid && effective > in) {
              EXPECT_FALSE(try_window_axis(in, filter, stride, dilation, padding));
              expect_one_line_error(
                  error_of([&] { window_axis(in, filter, stride, dilation, padding, "height"); }),
                  "larger than input");
              continue;
            }
            const WindowAxis w = window_axis(in, filter, stride, dilation, padding, "height");
            EXPECT_EQ(w.out, naive_out(in, effective, stride, padding));
            // The padding is exactly what the last window needs, split with the smaller half first.
            const int needed = std::max((w.out - 1) * stride + effective - in, 0);
            EXPECT_EQ(w.pad_before + w.pad_after, padding == Padding::kSame ? needed : 0);
            EXPECT_TRUE(w.pad_before == w.pad_after || w.pad_before + 1 == w.pad_after);
            // Every window touches the input (pools rely on it).
            for (int o = 0; o < w.out; ++o) {
              const int first = o * stride - w.pad_before;
              EXPECT_LT(first, in);
              EXPECT_GT(first + effective, 0);
            }
            const std::optional<WindowAxis> t = try_window_axis(in, filter, stride, dilation, padding);
            ASSERT_TRUE(t);
            EXPECT_EQ(t->out, w.out);
            EXPECT_EQ(t->pad_before, w.pad_before);
            EXPECT_EQ(t->pad_after, w.pad_after);
          }
        }
      }
    }
  }
}

TEST(Geometry, WindowAxisRejectsExtremesWithOneLine) {
  const auto expect = [](int64_t in, int64_t filter, int64_t stride, int64_t dilation,
                         const std::string& what) {
    for (Padding padding : {Padding::kSame, Padding::kValid}) {
      expect_one_line_error(error_of([&] { window_axis(in, filter, stride, dilation, padding, "width"); }),
                            what);
      EXPECT_FALSE(try_window_axis(in, filter, stride, dilation, padding));
    }
  };
  expect(8, 3, 0, 1, "width stride 0 must be positive");
  expect(8, 3, 1, -2, "width dilation -2 must be positive");
  expect(0, 3, 1, 1, "window of size 3 over 0 elements");
  expect(8, 0, 1, 1, "window of size 0 over 8");
  expect(8, 3, 1, 0x7fffffff, "width window (filter 3, dilation 2147483647, stride 1) is too large");
  expect(8, 3, 0x7fffffff, 1, "too large");
  expect(0x7fffffff, 1, 1, 1, "too large");
  expect(8, 0x7fffffff, 1, 1, "too large");
  // Values no int32 option holds still give an error, not an overflow.
  expect(8, kInt64Max, 1, kInt64Max, "too large");
  expect(kInt64Max, kInt64Max, kInt64Max, kInt64Max, "too large");
}

TEST(Geometry, WindowAxisAcceptsTheLargestReach) {
  // in + dilated window + stride == kMaxDimension is the last accepted reach.
  const int64_t in = 1000, stride = 7, filter = 2;
  const int64_t dilation = limits::kMaxDimension - in - stride - 1;  // effective = dilation + 1
  const WindowAxis w = window_axis(in, filter, stride, dilation, Padding::kSame, "height");
  EXPECT_EQ(w.out, (in + stride - 1) / stride);
  EXPECT_FALSE(try_window_axis(in, filter, stride, dilation + 1, Padding::kSame));
}

// TFLite's transpose-conv padding, written as "the padding of a forward conv whose
// input has the transposed conv's output size", counted naively.
int64_t naive_transpose_pad(int64_t out, int64_t filter, int64_t stride, Padding padding) {
  int64_t forward = 0;
  if (padding == Padding::kSame) {
    forward = naive_out(out, 1, stride, Padding::kSame);
  } else {
    forward =
        out >= filter ? naive_out(out, filter, stride, Padding::kValid) : (out + stride - filter) / stride;
  }
  return std::max<int64_t>((forward - 1) * stride + filter - out, 0) / 2;
}

TEST(Geometry, TransposePaddingAndDeconvolutionAgree) {
  for (int in = 1; in <= 9; ++in) {
    for (int filter = 1; filter <= 5; ++filter) {
      for (int stride = 1; stride <= 4; ++stride) {
        for (Padding padding : {Padding::kSame, Padding::kValid}) {
          SCOPED_TRACE(::testing::Message() << "in " << in << " filter " << filter << " stride " << stride);
          // MediaPipe's output size: SAME is in * stride when the filter covers a stride and
          // in divides evenly, VALID is the full scatter (in - 1) * stride + filter.
          const int out = transpose_bias_output_size(in, filter, stride, padding);
          if (padding == Padding::kValid) {
            EXPECT_EQ(out, (in - 1) * stride + filter);
          } else if (filter >= stride && in % stride == 0) {
            EXPECT_EQ(out, in * stride);
          } else if (filter >= 2 && stride == 2) {
            EXPECT_EQ(out, 2 * in - 1);  // odd input at stride 2
          }
          for (int requested = 1; requested <= out + stride; ++requested) {
            const std::optional<int64_t> pad = transpose_pad_before(requested, filter, stride, padding);
            ASSERT_TRUE(pad);
            EXPECT_EQ(*pad, naive_transpose_pad(requested, filter, stride, padding)) << "out " << requested;
            // XNNPACK's deconvolution, when it can express the size, gives exactly `requested` rows.
            const std::optional<DeconvAxis> d = try_deconv_axis(in, filter, stride, requested, padding);
            if (d) {
              EXPECT_EQ(d->pad_before, *pad);
              EXPECT_EQ(int64_t{in - 1} * stride + filter - d->pad_before - d->pad_after + d->adjustment,
                        requested);
              EXPECT_LT(d->adjustment, static_cast<uint32_t>(stride));
            }
          }
        }
      }
    }
  }
}

TEST(Geometry, TransposeRejectsExtremes) {
  EXPECT_FALSE(transpose_pad_before(0, 3, 2, Padding::kSame));
  EXPECT_FALSE(transpose_pad_before(8, 3, kInt64Max, Padding::kSame));
  EXPECT_FALSE(try_deconv_axis(kInt64Max, 3, 2, 8, Padding::kSame));
  expect_one_line_error(error_of([] { transpose_bias_output_size(4, 3, 0x7fffffff, Padding::kSame); }),
                        "output size");
  expect_one_line_error(error_of([] { transpose_bias_output_size(4, 3, 0, Padding::kSame); }), "not valid");
  const Dims4 in{1, 4, 4, 2}, weights{3, 3, 3, 2}, out{1, 8, 8, 3};
  expect_one_line_error(
      error_of([&] { transpose_conv_geometry(in, weights, out, 0x7fffffff, 2, Padding::kSame); }),
      "strides 2147483647x2 are too large for input 4x4");
  expect_one_line_error(error_of([&] { transpose_conv_geometry(in, weights, out, 2, -1, Padding::kValid); }),
                        "strides 2x-1 must be positive");
  expect_one_line_error(error_of([&] {
                          transpose_conv_geometry(in, {3, 3, 3, 5}, out, 2, 2, Padding::kValid);
                        }),
                        "weights have 5 input channels, the input has 2");
  const TransposeConvGeometry g = transpose_conv_geometry(in, weights, out, 2, 2, Padding::kSame);
  EXPECT_EQ(g.pad_h, naive_transpose_pad(8, 3, 2, Padding::kSame));
}

TEST(Geometry, WholeOpGeometry) {
  const ConvGeometry conv =
      conv_geometry({1, 9, 7, 6}, {4, 3, 3, 3}, Conv2DOptions{Padding::kSame, 2, 1, 1, 2});
  EXPECT_EQ(conv.group_channels, 3);
  EXPECT_EQ(conv.filters_per_group, 2);
  EXPECT_EQ(conv.filter_oc_step, 27);
  EXPECT_EQ(conv.filter_tap_step, 3);
  // Options: stride_w 2, stride_h 1, dilation_w 1, dilation_h 2.
  EXPECT_EQ(conv.out.shape(), (Shape{1, 9, 4, 4}));
  EXPECT_EQ(conv.pad_h, 2);  // half of the dilated height window 5, less one
  EXPECT_EQ(conv.pad_w, 1);
  expect_one_line_error(error_of([] {
                          conv_geometry({1, 9, 7, 6}, {3, 3, 3, 3}, Conv2DOptions{});
                        }),
                        "3 output channels do not divide into 2 groups");
  expect_one_line_error(error_of([] {
                          conv_geometry({1, 9, 7, 6}, {4, 3, 3, 4}, Conv2DOptions{});
                        }),
                        "not a multiple");

  DepthwiseConv2DOptions dw;
  dw.dilation_h = 0x40000000;
  expect_one_line_error(error_of([&] {
                          conv_geometry({1, 9, 7, 3}, {1, 3, 3, 6}, dw);
                        }),
                        "height window (filter 3, dilation 1073741824, stride 1) is too large");
  dw.dilation_h = 1;
  const ConvGeometry depthwise = conv_geometry({1, 9, 7, 3}, {1, 3, 3, 6}, dw);
  EXPECT_EQ(depthwise.group_channels, 1);
  EXPECT_EQ(depthwise.filters_per_group, 2);  // the depth multiplier
  EXPECT_EQ(depthwise.filter_oc_step, 1);
  EXPECT_EQ(depthwise.filter_tap_step, 6);
  EXPECT_EQ(depthwise.out.shape(), (Shape{1, 9, 7, 6}));
  expect_one_line_error(error_of([&] { conv_geometry({1, 9, 7, 3}, {2, 3, 3, 6}, dw); }), "expected 1");

  Pool2DOptions pool;
  pool.filter_h = 3;
  pool.filter_w = 2;
  pool.stride_h = pool.stride_w = 2;
  const PoolGeometry p = pool_geometry({2, 5, 4, 3}, pool);
  EXPECT_EQ(p.out.shape(), (Shape{2, 3, 2, 3}));
  pool.filter_w = 0x7fffffff;
  expect_one_line_error(error_of([&] { pool_geometry({2, 5, 4, 3}, pool); }), "width window");
  pool.filter_w = 0;
  expect_one_line_error(error_of([&] { pool_geometry({2, 5, 4, 3}, pool); }), "filter 3x0 must be positive");
}

TEST(Geometry, NhwcIndexing) {
  const Dims4 d = Dims4::of({2, 3, 4, 5});
  int64_t flat = 0;
  for (int b = 0; b < d.n; ++b)
    for (int y = 0; y < d.h; ++y)
      for (int x = 0; x < d.w; ++x)
        for (int c = 0; c < d.c; ++c) EXPECT_EQ(d.offset(b, y, x, c), flat++);
  EXPECT_EQ(d.pixels() * d.c, flat);
  EXPECT_TRUE(d.inside(2, 3));
  EXPECT_FALSE(d.inside(3, 0));
  EXPECT_FALSE(d.inside(0, -1));
  expect_one_line_error(error_of([] { Dims4::of({2, 3}); }), "not rank 4");
}

TEST(Limits, CheckedElements) {
  EXPECT_EQ(limits::checked_elements({2, 3, 4}, "input"), 24);
  EXPECT_EQ(limits::checked_elements({}, "input"), 1);
  EXPECT_EQ(limits::checked_elements({0, 0x7fffffff}, "input"), 0);
  // Beside a 0 the other dimensions are bounded too: kernels multiply subsets of them.
  expect_one_line_error(error_of([] {
                          limits::checked_elements({0, 0x7fffffff, 0x7fffffff}, "input");
                        }),
                        "input shape [0, 2147483647, 2147483647] is too large");
  EXPECT_EQ(limits::checked_elements({2, 0x40000000}, "input"), limits::kMaxTensorElements);
  expect_one_line_error(error_of([] {
                          limits::checked_elements({3, 0x40000000}, "input");
                        }),
                        "input shape [3, 1073741824] is too large");
  expect_one_line_error(error_of([] { limits::checked_elements({3, -1}, "output"); }), "negative dimension");
  expect_one_line_error(error_of([] { limits::checked_elements({3, 0}, "filter", true); }), "not positive");
}

}  // namespace
}  // namespace osprey::geometry
