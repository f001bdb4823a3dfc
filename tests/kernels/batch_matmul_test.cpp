// BATCH_MATMUL (with adj_x / adj_y and broadcast batch dimensions) and SQRT,
// the float ops the ONNX importer added: checked against naive loops.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/op_tester.h"

namespace osprey {
namespace {

using testing::OpTester;

struct MatMulCase {
  Shape x, y;
  bool adj_x = false, adj_y = false;
};

// x[b, m, k] * y[b, k, n] with the batch broadcast and adj_* read as transposes, in double.
std::vector<double> naive(const MatMulCase& c, const std::vector<float>& x, const std::vector<float>& y,
                          Shape& out) {
  const size_t rx = c.x.size(), ry = c.y.size();
  const int64_t m = c.adj_x ? c.x[rx - 1] : c.x[rx - 2], k = c.adj_x ? c.x[rx - 2] : c.x[rx - 1];
  const int64_t n = c.adj_y ? c.y[ry - 2] : c.y[ry - 1];
  const size_t batch_rank = std::max(rx, ry) - 2;
  Shape batch(batch_rank, 1);
  for (size_t d = 0; d < batch_rank; ++d) {
    const int32_t dx = d + rx - 2 >= batch_rank ? c.x[d + rx - 2 - batch_rank] : 1;
    const int32_t dy = d + ry - 2 >= batch_rank ? c.y[d + ry - 2 - batch_rank] : 1;
    batch[d] = std::max(dx, dy);
  }
  out = batch;
  out.push_back(static_cast<int32_t>(m));
  out.push_back(static_cast<int32_t>(n));
  std::vector<double> r;
  const int64_t batches = num_elements(batch);
  for (int64_t b = 0; b < batches; ++b) {
    // Flat batch offsets of x and y: coordinates, then 1-sized dims broadcast.
    int64_t rest = b, bx = 0, by = 0, sx = 1, sy = 1;
    for (size_t d = batch_rank; d-- > 0;) {
      const int64_t coord = rest % batch[d];
      rest /= batch[d];
      const int32_t dx = d + rx - 2 >= batch_rank ? c.x[d + rx - 2 - batch_rank] : 1;
      const int32_t dy = d + ry - 2 >= batch_rank ? c.y[d + ry - 2 - batch_rank] : 1;
      bx += (dx == 1 ? 0 : coord) * sx;
      by += (dy == 1 ? 0 : coord) * sy;
      sx *= dx;
      sy *= dy;
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t q = 0; q < k; ++q) {
          const float a = x[static_cast<size_t>(bx * m * k + (c.adj_x ? q * m + i : i * k + q))];
          const float v = y[static_cast<size_t>(by * k * n + (c.adj_y ? j * k + q : q * n + j))];
          s += static_cast<double>(a) * v;
        }
        r.push_back(s);
      }
  }
  return r;
}

TEST(BatchMatMul, MatchesNaiveWithBroadcastAndAdjoints) {
  const std::vector<MatMulCase> cases = {
      {{2, 3}, {3, 4}},
      {{1, 8, 40, 15}, {1, 8, 15, 40}},
      {{2, 3, 5}, {5, 2}},
      {{4, 1, 3, 2}, {1, 5, 2, 6}},
      {{2, 4, 3}, {2, 4, 5}, true, false},
      {{2, 3, 4}, {2, 5, 4}, false, true},
      {{3, 2}, {4, 3}, true, true},
  };
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-2, 2);
  for (const MatMulCase& c : cases) {
    std::vector<float> x(static_cast<size_t>(num_elements(c.x))), y(static_cast<size_t>(num_elements(c.y)));
    for (float& v : x) v = dist(rng);
    for (float& v : y) v = dist(rng);
    OpTester t;
    t.add_input<float>(c.x, x);
    t.add_input<float>(c.y, y);
    t.add_output(DType::kFloat32);
    t.set_op(OpCode::kBatchMatMul, BatchMatMulOptions{c.adj_x, c.adj_y});
    t.run();
    Shape want_shape;
    const std::vector<double> want = naive(c, x, y, want_shape);
    ASSERT_EQ(t.output_shape(), want_shape) << shape_str(c.x) << " " << shape_str(c.y);
    const std::vector<float> got = t.output_values<float>();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-5 * std::max(1.0, std::fabs(want[i])));
  }
}

TEST(BatchMatMul, RejectsMismatchedInnerDimensions) {
  OpTester t;
  t.add_input<float>({2, 3}, std::vector<float>(6, 1));
  t.add_input<float>({4, 2}, std::vector<float>(8, 1));
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kBatchMatMul, BatchMatMulOptions{});
  EXPECT_THROW(t.run(), Error);
}

TEST(Sqrt, MatchesStdSqrt) {
  const std::vector<float> x = {0.0f, 0.25f, 2.0f, 9.0f, 1e-6f, 12345.0f};
  OpTester t;
  t.add_input<float>({2, 3}, x);
  t.add_output(DType::kFloat32);
  t.set_op(OpCode::kSqrt);
  t.run();
  const std::vector<float> got = t.output_values<float>();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(got[i], std::sqrt(x[i]));
}

}  // namespace
}  // namespace osprey
