// Reference DENSIFY on hand-built sparse tensors (CSR, CSC, doubly compressed, block sparse) and
// on random tensors encoded by the test itself; then corrupt sparsity parameters.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "core/error.h"
#include "graph/graph.h"
#include "kernels/op_resolver.h"

namespace osprey {
namespace {

// A constant sparse tensor as the loader hands it over: dense shape, stored values only.
struct SparseInput {
  DType type = DType::kFloat32;
  Shape shape;
  Sparsity sparsity;
  std::vector<uint8_t> values;
  bool constant = true;
  bool sparse = true;
};

template <typename T>
std::vector<uint8_t> to_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> bytes(v.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
  return bytes;
}

template <typename T>
std::vector<T> from_bytes(const std::vector<uint8_t>& bytes) {
  std::vector<T> v(bytes.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

SparseDimension dense_dim(int32_t size) {
  SparseDimension d;
  d.dense_size = size;
  return d;
}

SparseDimension csr_dim(std::vector<int32_t> segments, std::vector<int32_t> indices) {
  SparseDimension d;
  d.sparse = true;
  d.segments = std::move(segments);
  d.indices = std::move(indices);
  return d;
}

// OpTester cannot attach sparsity, so this builds the one-op graph itself.
std::vector<uint8_t> run_densify(const SparseInput& in, DType out_type = DType::kFloat32,
                                 Shape* out_shape = nullptr) {
  Graph g;
  Tensor t;
  t.type = in.type;
  t.shape = in.shape;
  if (in.sparse) {
    auto sp = std::make_shared<Sparsity>(in.sparsity);
    sp->value_bytes = in.values.size();
    t.sparsity = sp;
  }
  t.is_constant = in.constant;
  // Exactly the stored bytes, so that a read past them shows up under AddressSanitizer.
  t.data = in.values.empty() ? nullptr : const_cast<uint8_t*>(in.values.data());
  g.tensors.push_back(t);
  Tensor out;
  out.type = out_type;
  g.tensors.push_back(out);
  Op op;
  op.code = static_cast<int32_t>(OpCode::kDensify);
  op.inputs = {0};
  op.outputs = {1};
  std::unique_ptr<Kernel> kernel = reference_op_resolver().create(op);
  if (kernel == nullptr) throw std::logic_error("no DENSIFY kernel");
  KernelContext ctx(g, op);
  kernel->prepare(ctx);
  g.allocate_constant(g.tensors[1]);
  kernel->eval(ctx);
  if (out_shape) *out_shape = g.tensors[1].shape;
  const Tensor& result = g.tensors[1];
  return std::vector<uint8_t>(result.data, result.data + result.num_bytes());
}

std::vector<float> densify_floats(const SparseInput& in) {
  return from_bytes<float>(run_densify(in));
}

// [[0, 1, 0, 2],
//  [0, 0, 0, 0],
//  [3, 0, 4, 0]]
const std::vector<float> kMatrix = {0, 1, 0, 2, 0, 0, 0, 0, 3, 0, 4, 0};

SparseInput csr_matrix() {
  SparseInput in;
  in.shape = {3, 4};
  in.sparsity.traversal_order = {0, 1};
  in.sparsity.dims = {dense_dim(3), csr_dim({0, 2, 2, 4}, {1, 3, 0, 2})};
  in.values = to_bytes<float>({1, 2, 3, 4});
  return in;
}

TEST(ElementwiseDensify, Csr2D) {
  Shape shape;
  const std::vector<float> y = from_bytes<float>(run_densify(csr_matrix(), DType::kFloat32, &shape));
  EXPECT_EQ(shape, (Shape{3, 4}));
  EXPECT_EQ(y, kMatrix);
}

TEST(ElementwiseDensify, Csc2D) {
  // Columns first: each column lists its rows.
  SparseInput in;
  in.shape = {3, 4};
  in.sparsity.traversal_order = {1, 0};
  in.sparsity.dims = {dense_dim(4), csr_dim({0, 1, 2, 3, 4}, {2, 0, 2, 0})};
  in.values = to_bytes<float>({3, 1, 4, 2});
  EXPECT_EQ(densify_floats(in), kMatrix);
}

TEST(ElementwiseDensify, DoublyCompressed2D) {
  // Only rows 0 and 2 are stored.
  SparseInput in;
  in.shape = {3, 4};
  in.sparsity.traversal_order = {0, 1};
  in.sparsity.dims = {csr_dim({0, 2}, {0, 2}), csr_dim({0, 2, 4}, {1, 3, 0, 2})};
  in.values = to_bytes<float>({1, 2, 3, 4});
  EXPECT_EQ(densify_floats(in), kMatrix);
}

TEST(ElementwiseDensify, AllDenseLevelsCopyInOrder) {
  SparseInput in;
  in.shape = {2, 3};
  in.sparsity.traversal_order = {0, 1};
  in.sparsity.dims = {dense_dim(2), dense_dim(3)};
  in.values = to_bytes<float>({1, 2, 3, 4, 5, 6});
  EXPECT_EQ(densify_floats(in), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(ElementwiseDensify, Int8AndFloat16) {
  SparseInput in = csr_matrix();
  in.type = DType::kInt8;
  in.values = to_bytes<int8_t>({-1, 2, -3, 4});
  EXPECT_EQ(from_bytes<int8_t>(run_densify(in, DType::kInt8)),
            (std::vector<int8_t>{0, -1, 0, 2, 0, 0, 0, 0, -3, 0, 4, 0}));
  in.type = DType::kFloat16;
  in.values = to_bytes<uint16_t>({0x3C00, 0xC000, 0x7BFF, 0x0001});
  EXPECT_EQ(from_bytes<uint16_t>(run_densify(in, DType::kFloat16)),
            (std::vector<uint16_t>{0, 0x3C00, 0, 0xC000, 0, 0, 0, 0, 0x7BFF, 0, 0x0001, 0}));
}

// 4x4 with 2x2 blocks; blocks (0, 0) and (1, 1) are stored.
const std::vector<float> kBlockMatrix = {1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 5, 6};

TEST(ElementwiseDensify, TwoByTwoBlocks) {
  SparseInput in;
  in.shape = {4, 4};
  in.sparsity.traversal_order = {0, 1, 2, 3};
  in.sparsity.block_map = {0, 1};
  in.sparsity.dims = {dense_dim(2), csr_dim({0, 1, 2}, {0, 1}), dense_dim(2), dense_dim(2)};
  in.values = to_bytes<float>({1, 2, 3, 4, 0, 0, 5, 6});
  EXPECT_EQ(densify_floats(in), kBlockMatrix);
  // The same blocks stored column by column.
  in.sparsity.traversal_order = {0, 1, 3, 2};
  in.values = to_bytes<float>({1, 3, 2, 4, 0, 5, 0, 6});
  EXPECT_EQ(densify_floats(in), kBlockMatrix);
}

// Encodes a row-major matrix as CSR, the way a converter would.
SparseInput encode_csr(const std::vector<float>& dense, int32_t rows, int32_t cols) {
  SparseInput in;
  in.shape = {rows, cols};
  in.sparsity.traversal_order = {0, 1};
  std::vector<int32_t> segments = {0};
  std::vector<int32_t> indices;
  std::vector<float> values;
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t c = 0; c < cols; ++c) {
      const float v = dense[static_cast<size_t>(r * cols + c)];
      if (v != 0) {
        indices.push_back(c);
        values.push_back(v);
      }
    }
    segments.push_back(static_cast<int32_t>(indices.size()));
  }
  in.sparsity.dims = {dense_dim(rows), csr_dim(segments, indices)};
  in.values = to_bytes(values);
  return in;
}

std::vector<float> random_sparse(size_t n, double density, uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution keep(density);
  std::uniform_real_distribution<float> value(0.5f, 2);
  std::vector<float> v(n, 0.0f);
  for (float& x : v) {
    if (keep(rng)) x = value(rng);
  }
  return v;
}

TEST(ElementwiseDensify, RandomCsrRoundTrips) {
  uint32_t seed = 1;
  for (double density : {0.0, 0.1, 0.5, 1.0}) {
    const std::vector<float> dense = random_sparse(7 * 13, density, seed++);
    EXPECT_EQ(densify_floats(encode_csr(dense, 7, 13)), dense) << density;
  }
}

// A conv weight [O, H, W, I] with 1x4 blocks along I, as TFLite's converter writes it:
// traversal [0, 1, 2, 3, 4], block_map [3], levels dense O, H, W, CSR over I / 4, dense 4.
SparseInput encode_conv_blocks(const std::vector<float>& dense, const Shape& shape) {
  const int32_t outer = shape[0] * shape[1] * shape[2];
  const int32_t blocks = shape[3] / 4;
  SparseInput in;
  in.shape = shape;
  in.sparsity.traversal_order = {0, 1, 2, 3, 4};
  in.sparsity.block_map = {3};
  std::vector<int32_t> segments = {0};
  std::vector<int32_t> indices;
  std::vector<float> values;
  for (int32_t p = 0; p < outer; ++p) {
    for (int32_t b = 0; b < blocks; ++b) {
      const float* block = &dense[static_cast<size_t>(p * shape[3] + b * 4)];
      if (block[0] != 0 || block[1] != 0 || block[2] != 0 || block[3] != 0) {
        indices.push_back(b);
        values.insert(values.end(), block, block + 4);
      }
    }
    segments.push_back(static_cast<int32_t>(indices.size()));
  }
  in.sparsity.dims = {dense_dim(shape[0]), dense_dim(shape[1]), dense_dim(shape[2]),
                      csr_dim(segments, indices), dense_dim(4)};
  in.values = to_bytes(values);
  return in;
}

TEST(ElementwiseDensify, ConvWeightWithOneByFourBlocks) {
  // Hand-built: O=2, H=1, W=2, I=8; kernel (0, 0, 1) keeps block 1, kernel (1, 0, 0) block 0.
  SparseInput in;
  in.shape = {2, 1, 2, 8};
  in.sparsity.traversal_order = {0, 1, 2, 3, 4};
  in.sparsity.block_map = {3};
  in.sparsity.dims = {dense_dim(2), dense_dim(1), dense_dim(2), csr_dim({0, 0, 1, 2, 2}, {1, 0}),
                      dense_dim(4)};
  in.values = to_bytes<float>({1, 2, 3, 4, 5, 6, 7, 8});
  std::vector<float> expected(32, 0.0f);
  for (int i = 0; i < 4; ++i) {
    expected[static_cast<size_t>(8 + 4 + i)] = static_cast<float>(1 + i);  // (0, 0, 1, 4 + i)
    expected[static_cast<size_t>(16 + i)] = static_cast<float>(5 + i);     // (1, 0, 0, i)
  }
  EXPECT_EQ(densify_floats(in), expected);

  // Random weights with whole blocks zeroed.
  const Shape shape = {8, 3, 3, 16};
  std::vector<float> dense = random_sparse(static_cast<size_t>(num_elements(shape)), 1.0, 77);
  std::mt19937 rng(78);
  std::bernoulli_distribution zero_block(0.6);
  for (size_t b = 0; b < dense.size(); b += 4) {
    if (zero_block(rng))
      std::fill(dense.begin() + static_cast<ptrdiff_t>(b), dense.begin() + static_cast<ptrdiff_t>(b) + 4,
                0.0f);
  }
  EXPECT_EQ(densify_floats(encode_conv_blocks(dense, shape)), dense);
}

void expect_densify_error(const SparseInput& in, DType out_type = DType::kFloat32) {
  EXPECT_THROW(run_densify(in, out_type), Error);
}

TEST(ElementwiseDensify, CorruptIndicesThrow) {
  SparseInput in = csr_matrix();
  in.sparsity.dims[1].indices = {1, 4, 0, 2};  // column 4 of 4
  expect_densify_error(in);
  try {
    run_densify(in);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "sparsity level 1 has index 4 outside [0, 4)");
  }
  in.sparsity.dims[1].indices = {1, -1, 0, 2};
  expect_densify_error(in);
  in.sparsity.dims[1].indices = {1, 3, 0};  // segments point past the indices
  expect_densify_error(in);
}

TEST(ElementwiseDensify, CorruptSegmentsThrow) {
  SparseInput in = csr_matrix();
  in.sparsity.dims[1].segments = {0, 2, 2};  // one row short
  expect_densify_error(in);
  in.sparsity.dims[1].segments = {0, 3, 2, 4};  // decreasing
  expect_densify_error(in);
  in.sparsity.dims[1].segments = {-1, 2, 2, 4};  // negative
  expect_densify_error(in);
  in.sparsity.dims[1].segments = {0, 2, 2, 5};  // past the indices
  expect_densify_error(in);
  in = csr_matrix();
  in.sparsity.dims[0] = csr_dim({0, 0}, {});  // an empty outer level stores nothing
  in.sparsity.dims[1].segments = {-5};
  in.values.clear();
  expect_densify_error(in);
}

TEST(ElementwiseDensify, TooFewValuesThrow) {
  SparseInput in = csr_matrix();
  in.values = to_bytes<float>({1, 2, 3});
  expect_densify_error(in);
}

TEST(ElementwiseDensify, MalformedStructureThrows) {
  SparseInput in = csr_matrix();
  in.sparsity.traversal_order = {0, 0};
  expect_densify_error(in);
  in.sparsity.traversal_order = {0, 2};
  expect_densify_error(in);
  in.sparsity.traversal_order = {0, 1, 2};
  expect_densify_error(in);
  in = csr_matrix();
  in.sparsity.dims[0].dense_size = 4;  // larger than the dimension
  expect_densify_error(in);
  in = csr_matrix();
  in.sparsity.dims.pop_back();
  expect_densify_error(in);

  // Blocks: size 3 does not divide 4; a sparse block level; a dimension blocked twice.
  SparseInput blocked;
  blocked.shape = {4, 4};
  blocked.sparsity.traversal_order = {0, 1, 2};
  blocked.sparsity.block_map = {1};
  blocked.sparsity.dims = {dense_dim(4), dense_dim(1), dense_dim(3)};
  blocked.values = to_bytes(std::vector<float>(16));
  expect_densify_error(blocked);
  blocked.sparsity.dims = {dense_dim(4), dense_dim(1), csr_dim({0, 4}, {0, 1, 2, 3})};
  expect_densify_error(blocked);
  blocked.sparsity.traversal_order = {0, 1, 2, 3};
  blocked.sparsity.block_map = {1, 1};
  blocked.sparsity.dims = {dense_dim(4), dense_dim(1), dense_dim(2), dense_dim(2)};
  expect_densify_error(blocked);
  blocked.sparsity.block_map = {1, 5};
  expect_densify_error(blocked);
}

TEST(ElementwiseDensify, WrongTensorsThrow) {
  SparseInput in = csr_matrix();
  expect_densify_error(in, DType::kInt8);  // output type differs
  in.constant = false;
  expect_densify_error(in);
  in = csr_matrix();
  in.sparse = false;
  expect_densify_error(in);
  in = csr_matrix();
  in.type = DType::kInt32;
  expect_densify_error(in, DType::kInt32);
}

}  // namespace
}  // namespace osprey
