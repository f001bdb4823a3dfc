// Reference DENSIFY: expands a constant sparse tensor (TFLite's SparsityParameters) to its dense
// form, with the semantics of TFLite's FormatConverter::SparseToDense.
//
// The stored values are the leaves of a walk over "levels", one per entry of traversal_order:
// first the n original dimensions (in traversal order), then the k block dimensions. A DENSE level
// visits 0..dense_size-1; a SPARSE_CSR level visits indices[segments[p] .. segments[p+1]-1], where
// p is the position reached in the level above (for a dense level above, p = p_above * dense_size
// + i; for a sparse one, the index into its indices array). The value at each leaf goes to the
// coordinate the levels spell out; a blocked dimension's coordinate is
// coordinate * block_size + coordinate within the block.
//
// Everything read from the model is checked in prepare, so eval walks without checks.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/limits.h"
#include "kernels/kernel.h"

namespace osprey::ref {

namespace {

// Positions grow with every dense level; a real structure never has more than the
// dense tensor has elements.
constexpr int64_t kMaxPositions = limits::kMaxTensorElements;

class DensifyKernel : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(ctx.num_inputs() == 1, "expected 1 input, got {}", ctx.num_inputs());
    OSPREY_CHECK(ctx.num_outputs() == 1, "expected 1 output, got {}", ctx.num_outputs());
    OSPREY_CHECK(ctx.has_input(0), "input 0 is missing");
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    OSPREY_CHECK(in.type == DType::kFloat32 || in.type == DType::kFloat16 || in.type == DType::kInt8,
                 "input 0 has type {}, expected float32, float16 or int8", dtype_name(in.type));
    OSPREY_CHECK(out.type == in.type, "output 0 has type {}, expected {}", dtype_name(out.type),
                 dtype_name(in.type));
    OSPREY_CHECK(in.sparsity != nullptr, "input 0 is not sparse");
    OSPREY_CHECK(in.is_constant, "input 0 is not constant");
    for (int32_t d : in.shape) OSPREY_CHECK(d >= 0, "input 0 has shape {}", shape_str(in.shape));
    elem_size_ = dtype_size(in.type);
    out.shape = in.shape;
    sparsity_ = in.sparsity;  // the levels point into it
    plan(in.shape, *sparsity_);
    OSPREY_CHECK(values_ * static_cast<int64_t>(elem_size_) <= static_cast<int64_t>(in.sparsity->value_bytes),
                 "sparse structure needs {} values but {} bytes of {} are stored", values_,
                 in.sparsity->value_bytes, dtype_name(in.type));
    OSPREY_CHECK(values_ == 0 || in.data != nullptr, "input 0 has no data");
  }

  void eval(KernelContext& ctx) override {
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    std::memset(out.data, 0, out.num_bytes());
    int64_t next_value = 0;
    walk(0, 0, 0, in.data, next_value, out.data);
  }

 private:
  struct Level {
    const SparseDimension* dim = nullptr;
    int64_t size = 0;    // dense levels: how many coordinates they visit
    int64_t weight = 0;  // flat output offset of one step along this level
  };

  // Checks the sparsity parameters against the dense shape and precomputes each level's weight.
  void plan(const Shape& shape, const Sparsity& sp) {
    const int n = static_cast<int>(shape.size());
    const int k = static_cast<int>(sp.block_map.size());
    const int levels = n + k;
    OSPREY_CHECK(static_cast<int>(sp.traversal_order.size()) == levels,
                 "sparsity has {} traversal dimensions, expected {} ({} dimensions and {} block dimensions)",
                 sp.traversal_order.size(), levels, n, k);
    OSPREY_CHECK(static_cast<int>(sp.dims.size()) == levels, "sparsity has {} dimension entries, expected {}",
                 sp.dims.size(), levels);

    // traversal_order: a permutation of the original dimensions, then one of the block dimensions.
    std::vector<int> level_of(levels, -1);
    for (int l = 0; l < levels; ++l) {
      const int32_t d = sp.traversal_order[l];
      const bool in_range = l < n ? (d >= 0 && d < n) : (d >= n && d < levels);
      OSPREY_CHECK(in_range && level_of[d] < 0,
                   "sparsity traversal order is not a permutation (entry {} is {})", l, d);
      level_of[d] = l;
    }

    // block_map: each block dimension blocks a distinct original dimension; its size comes from
    // its (dense) level and must divide that dimension.
    std::vector<int64_t> block_size(n, 1);
    std::vector<bool> blocked(n, false);
    for (int b = 0; b < k; ++b) {
      const int32_t d = sp.block_map[b];
      OSPREY_CHECK(d >= 0 && d < n && !blocked[d],
                   "sparsity block map entry {} is {}, not a distinct dimension below {}", b, d, n);
      const SparseDimension& meta = sp.dims[level_of[n + b]];
      OSPREY_CHECK(!meta.sparse, "block dimension {} must be dense", n + b);
      OSPREY_CHECK(meta.dense_size > 0 && shape[d] % meta.dense_size == 0,
                   "block size {} does not divide dimension {} of size {}", meta.dense_size, d, shape[d]);
      block_size[d] = meta.dense_size;
      blocked[d] = true;
    }

    // Row-major strides of the dense output.
    std::vector<int64_t> stride(n, 1);
    for (int d = n - 2; d >= 0; --d) stride[d] = stride[d + 1] * shape[d + 1];

    // Walk the levels once, keeping the range [lo, hi) of positions reached, to check that every
    // segment and index read in eval is in bounds and every coordinate lies inside the shape.
    levels_.assign(levels, Level{});
    int64_t lo = 0;
    int64_t hi = 1;
    for (int l = 0; l < levels; ++l) {
      const int32_t d = sp.traversal_order[l];
      const SparseDimension& meta = sp.dims[l];
      Level& level = levels_[l];
      level.dim = &meta;
      int64_t bound;  // coordinates this level may produce
      if (d < n) {
        bound = shape[d] / block_size[d];
        level.weight = stride[d] * block_size[d];
      } else {
        const int32_t orig = sp.block_map[d - n];
        bound = block_size[orig];
        level.weight = stride[orig];
      }
      if (!meta.sparse) {
        OSPREY_CHECK(meta.dense_size == bound, "sparsity level {} is dense of size {}, expected {}", l,
                     meta.dense_size, bound);
        OSPREY_CHECK(bound == 0 || hi <= kMaxPositions / bound, "sparsity structure is too large");
        level.size = bound;
        lo *= bound;
        hi *= bound;
      } else {
        const auto& seg = meta.segments;
        OSPREY_CHECK(static_cast<int64_t>(seg.size()) > hi, "sparsity level {} has {} segments, expected {}",
                     l, seg.size(), hi + 1);
        OSPREY_CHECK(seg[lo] >= 0, "sparsity level {} has a negative segment", l);
        for (int64_t p = lo; p < hi; ++p) {
          OSPREY_CHECK(seg[p] <= seg[p + 1], "sparsity level {} has decreasing segments at {}", l, p);
        }
        const int64_t next_lo = seg[lo];
        const int64_t next_hi = seg[hi];
        OSPREY_CHECK(next_hi <= static_cast<int64_t>(meta.indices.size()),
                     "sparsity level {} has segments up to {} but {} indices", l, next_hi,
                     meta.indices.size());
        for (int64_t i = next_lo; i < next_hi; ++i) {
          const int32_t index = meta.indices[i];
          OSPREY_CHECK(index >= 0 && index < bound, "sparsity level {} has index {} outside [0, {})", l,
                       index, bound);
        }
        lo = next_lo;
        hi = next_hi;
      }
    }
    values_ = hi - lo;  // every position of the last level holds one value
  }

  // Visits level `l` from position `p` with flat output offset `offset`, copying one stored value
  // per leaf in traversal order.
  void walk(size_t l, int64_t p, int64_t offset, const uint8_t* values, int64_t& next_value,
            uint8_t* out) const {
    if (l == levels_.size()) {
      std::memcpy(out + offset * static_cast<int64_t>(elem_size_),
                  values + next_value * static_cast<int64_t>(elem_size_), elem_size_);
      ++next_value;
      return;
    }
    const Level& level = levels_[l];
    if (!level.dim->sparse) {
      for (int64_t i = 0; i < level.size; ++i)
        walk(l + 1, p * level.size + i, offset + i * level.weight, values, next_value, out);
    } else {
      const auto& seg = level.dim->segments;
      for (int64_t i = seg[p]; i < seg[p + 1]; ++i) {
        walk(l + 1, i, offset + level.dim->indices[i] * level.weight, values, next_value, out);
      }
    }
  }

  std::shared_ptr<const Sparsity> sparsity_;
  size_t elem_size_ = 0;
  int64_t values_ = 0;
  std::vector<Level> levels_;
};

}  // namespace

// Factory the op registry (src/ops) names.
extern const KernelFactory densify_kernel = make_kernel<DensifyKernel>;

}  // namespace osprey::ref
