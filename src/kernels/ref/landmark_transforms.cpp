// MediaPipe's landmark custom ops, version 2, with the arithmetic of
// MediaPipe's CPU kernels (float, left to right; where those kernels write a
// double constant the step is in double), so that results match it but for
// the last bits of the C library's cos, sin and atan2:
//  - Landmarks2TransformMatrix: rotation r = target - atan2 of the line from
//    the left to the right landmark; the subset's (x, y), rotated by r, span
//    a box; the output is the 4x4 matrix shift(centre) * rotate(-r) *
//    scale(scale * box / crop) * shift(-crop / 2), which maps a crop pixel
//    to the landmarks' coordinates;
//  - TransformTensorBilinear: each crop pixel (x, y) goes through the
//    matrix's first two rows (after a half-pixel correction) and samples
//    the input bilinearly; a point outside [0, size - 1] gives 0;
//  - TransformLandmarks: each landmark's (x, y) goes through the matrix's
//    first two rows; z is kept.
// Batch 1 only, as MediaPipe's kernels (they ignore further batches).
#include <algorithm>
#include <array>
#include <cmath>

#include "kernels/kernel.h"

namespace osprey::ref {
namespace {

using Mat4 = std::array<float, 16>;  // row-major

// a * b, each sum from 0 over k in order, as MediaPipe's Mat4.
Mat4 multiply(const Mat4& a, const Mat4& b) {
  Mat4 out{};
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) {
      float sum = 0;
      for (int k = 0; k < 4; ++k)
        sum += a[static_cast<size_t>(r * 4 + k)] * b[static_cast<size_t>(k * 4 + c)];
      out[static_cast<size_t>(r * 4 + c)] = sum;
    }
  }
  return out;
}

// One row of a matrix applied to (x, y, 0, 1), summed left to right.
float apply_row(const float* row, float x, float y) {
  return row[0] * x + row[1] * y + row[2] * 0.0f + row[3] * 1.0f;
}

void check_matrix(const Tensor& t, const char* what) {
  OSPREY_CHECK(t.type == DType::kFloat32 && t.num_elements() == 16,
               "{} must be a 4x4 float32 matrix, not {} {}", what, dtype_name(t.type), shape_str(t.shape));
}

void check_version(const KernelContext& ctx) {
  OSPREY_CHECK(ctx.op().version == 2, "version {} is not supported; osprey runs version 2", ctx.op().version);
}

class LandmarksToTransformMatrix final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_version(ctx);
    OSPREY_CHECK(ctx.num_inputs() == 1 && ctx.num_outputs() == 1, "takes 1 input and gives 1 output");
    o_ = ctx.options<LandmarksToTransformMatrixOptions>();
    const Tensor& in = ctx.input(0);
    OSPREY_CHECK(in.type == DType::kFloat32 && in.rank() == 3 && in.dim(0) == 1 && in.dim(2) == 3,
                 "landmarks must be float32 [1, N, 3], not {} {}", dtype_name(in.type), shape_str(in.shape));
    const int64_t n = in.dim(1);
    auto check_index = [n](int i, const char* what) {
      OSPREY_CHECK(i < n, "{} {} is past the {} landmarks", what, i, n);
    };
    check_index(o_.left_rotation_idx, "left_rotation_idx");
    check_index(o_.right_rotation_idx, "right_rotation_idx");
    for (int i : o_.subset) check_index(i, "subset index");
    Tensor& out = ctx.output(0);
    OSPREY_CHECK(out.type == DType::kFloat32, "output must be float32, not {}", dtype_name(out.type));
    out.shape = {1, 4, 4};
  }

  void eval(KernelContext& ctx) override {
    const float* p = ctx.input(0).data_as<float>();
    const auto x = [p](int i) { return p[3 * static_cast<size_t>(i)]; };
    const auto y = [p](int i) { return p[3 * static_cast<size_t>(i) + 1]; };
    const int left = o_.left_rotation_idx, right = o_.right_rotation_idx;
    const float r = o_.target_rotation_radians - std::atan2(y(right) - y(left), x(right) - x(left));

    // The subset's box in the frame rotated by r.
    const float cr = std::cos(r), sr = std::sin(r);
    float min_x = 0, max_x = 0, min_y = 0, max_y = 0;
    for (size_t k = 0; k < o_.subset.size(); ++k) {
      const int i = o_.subset[k];
      const float rx = cr * x(i) + -sr * y(i) + 0.0f * 1.0f;
      const float ry = sr * x(i) + cr * y(i) + 0.0f * 1.0f;
      if (k == 0) {
        min_x = max_x = rx;
        min_y = max_y = ry;
        continue;
      }
      max_x = std::max(max_x, rx);
      max_y = std::max(max_y, ry);
      min_x = std::min(min_x, rx);
      min_y = std::min(min_y, ry);
    }
    const float width = max_x - min_x, height = max_y - min_y;
    const float mid_x = (min_x + max_x) / 2, mid_y = (min_y + max_y) / 2;
    // The box centre back in the landmarks' frame.
    const float ci = std::cos(-r), si = std::sin(-r);
    const float centre_x = ci * mid_x + -si * mid_y + 0.0f * 1.0f;
    const float centre_y = si * mid_x + ci * mid_y + 0.0f * 1.0f;

    const float scale_x = o_.scale_x * width / static_cast<float>(o_.output_width);
    const float scale_y = o_.scale_y * height / static_cast<float>(o_.output_height);
    const auto half_w = static_cast<float>(-1.0 * (o_.output_width / 2.0));
    const auto half_h = static_cast<float>(-1.0 * (o_.output_height / 2.0));
    const Mat4 shift = {1, 0, 0, centre_x, 0, 1, 0, centre_y, 0, 0, 1, 0, 0, 0, 0, 1};
    const Mat4 rotate = {ci, -si, 0, 0, si, ci, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    const Mat4 scale = {scale_x, 0, 0, 0, 0, scale_y, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    const Mat4 to_corner = {1, 0, 0, half_w, 0, 1, 0, half_h, 0, 0, 1, 0, 0, 0, 0, 1};
    // MediaPipe starts from the identity; identity * shift is shift exactly.
    const Mat4 m = multiply(multiply(multiply(shift, rotate), scale), to_corner);
    std::copy(m.begin(), m.end(), ctx.output(0).data_as<float>());
  }

 private:
  LandmarksToTransformMatrixOptions o_;
};

class TransformTensorBilinear final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_version(ctx);
    OSPREY_CHECK(ctx.num_inputs() == 2 && ctx.num_outputs() == 1, "takes 2 inputs and gives 1 output");
    const auto& o = ctx.options<TransformTensorBilinearOptions>();
    const Tensor& in = ctx.input(0);
    OSPREY_CHECK(in.type == DType::kFloat32 && in.rank() == 4 && in.dim(0) == 1,
                 "input must be float32 [1, H, W, C], not {} {}", dtype_name(in.type), shape_str(in.shape));
    check_matrix(ctx.input(1), "the second input");
    Tensor& out = ctx.output(0);
    OSPREY_CHECK(out.type == DType::kFloat32, "output must be float32, not {}", dtype_name(out.type));
    out.shape = {1, o.output_height, o.output_width, in.dim(3)};
  }

  void eval(KernelContext& ctx) override {
    const Tensor& in = ctx.input(0);
    const float* data = in.data_as<float>();
    const float* m = ctx.input(1).data_as<float>();
    Tensor& out = ctx.output(0);
    float* dst = out.data_as<float>();
    const int64_t h = in.dim(1), w = in.dim(2), channels = in.dim(3);
    const int64_t oh = out.dim(1), ow = out.dim(2);
    // Sample at pixel centres: T -> S(-0.5) * T * S(0.5), in double as MediaPipe writes it.
    float x_row[4] = {m[0], m[1], m[2], m[3]}, y_row[4] = {m[4], m[5], m[6], m[7]};
    x_row[3] = static_cast<float>(x_row[3] + (x_row[0] * 0.5 + x_row[1] * 0.5 - 0.5));
    y_row[3] = static_cast<float>(y_row[3] + (y_row[0] * 0.5 + y_row[1] * 0.5 - 0.5));
    const auto read = [&](int64_t row, int64_t col, int64_t c) -> float {
      if (row < 0 || col < 0 || row >= h || col >= w) return 0;
      return data[(row * w + col) * channels + c];
    };
    for (int64_t oy = 0; oy < oh; ++oy) {
      for (int64_t ox = 0; ox < ow; ++ox) {
        float* pixel = dst + (oy * ow + ox) * channels;
        const float tx = apply_row(x_row, static_cast<float>(ox), static_cast<float>(oy));
        const float ty = apply_row(y_row, static_cast<float>(ox), static_cast<float>(oy));
        // Written so that NaN lands outside too.
        const bool inside =
            tx >= 0.0 && tx <= static_cast<float>(w - 1) && ty >= 0.0 && ty <= static_cast<float>(h - 1);
        if (!inside) {
          std::fill(pixel, pixel + channels, 0.0f);
          continue;
        }
        const float fx = std::floor(tx), fy = std::floor(ty);
        const auto x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
        const float right = tx - fx, lower = ty - fy;
        for (int64_t c = 0; c < channels; ++c) {
          const auto top = static_cast<float>((1.0 - right) * read(y0, x0, c) + right * read(y0, x0 + 1, c));
          const auto bottom =
              static_cast<float>((1.0 - right) * read(y0 + 1, x0, c) + right * read(y0 + 1, x0 + 1, c));
          pixel[c] = static_cast<float>(lower * bottom + (1.0 - lower) * top);
        }
      }
    }
  }
};

class TransformLandmarks final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    check_version(ctx);
    OSPREY_CHECK(ctx.num_inputs() == 2 && ctx.num_outputs() == 1, "takes 2 inputs and gives 1 output");
    const Tensor& in = ctx.input(0);
    OSPREY_CHECK(
        in.type == DType::kFloat32 && in.rank() == 3 && in.dim(0) == 1 && (in.dim(2) == 2 || in.dim(2) == 3),
        "landmarks must be float32 [1, N, 2] or [1, N, 3], not {} {}", dtype_name(in.type),
        shape_str(in.shape));
    check_matrix(ctx.input(1), "the second input");
    Tensor& out = ctx.output(0);
    OSPREY_CHECK(out.type == DType::kFloat32, "output must be float32, not {}", dtype_name(out.type));
    out.shape = in.shape;
  }

  void eval(KernelContext& ctx) override {
    const Tensor& in = ctx.input(0);
    const float* src = in.data_as<float>();
    const float* m = ctx.input(1).data_as<float>();
    float* dst = ctx.output(0).data_as<float>();
    const int64_t n = in.dim(1), dims = in.dim(2);
    for (int64_t i = 0; i < n; ++i) {
      const float* p = src + i * dims;
      float* q = dst + i * dims;
      const float x = p[0], y = p[1];
      q[0] = apply_row(m, x, y);
      q[1] = apply_row(m + 4, x, y);
      if (dims == 3) q[2] = p[2];
    }
  }
};

}  // namespace

// Factories the op registry (src/ops/mediapipe_ops.cpp) names.
extern const KernelFactory landmarks_to_transform_matrix_kernel = make_kernel<LandmarksToTransformMatrix>;
extern const KernelFactory transform_tensor_bilinear_kernel = make_kernel<TransformTensorBilinear>;
extern const KernelFactory transform_landmarks_kernel = make_kernel<TransformLandmarks>;

}  // namespace osprey::ref
