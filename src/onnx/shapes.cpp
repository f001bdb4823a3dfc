#include "onnx/shapes.h"

#include <algorithm>

#include "core/error.h"

namespace osprey::onnx {

Dims reshape_dims(const Dims& in, const std::vector<int64_t>& spec, bool allowzero) {
  int64_t total = 1;
  for (int64_t d : in) total *= d;
  Dims out;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allowzero) {
      OSPREY_CHECK(i < in.size(), "reshape dimension {} copies an input dimension that does not exist", i);
      d = in[i];
    }
    if (d == -1) {
      OSPREY_CHECK(infer < 0, "reshape has more than one -1");
      infer = static_cast<int>(i);
      d = 1;
    } else {
      OSPREY_CHECK(d >= 0, "reshape dimension {} is {}", i, d);
    }
    out.push_back(d);
    known *= d;
    OSPREY_CHECK(known <= (int64_t{1} << 40), "reshape target is too large");
  }
  if (infer >= 0) {
    OSPREY_CHECK(known > 0 && total % known == 0, "cannot reshape {} elements with a -1 dimension", total);
    out[static_cast<size_t>(infer)] = total / known;
  } else {
    OSPREY_CHECK(known == total, "cannot reshape {} elements into {}", total, known);
  }
  return out;
}

Dims flatten_dims(const Dims& in, int64_t axis) {
  const int rank = static_cast<int>(in.size());
  OSPREY_CHECK(axis >= -rank && axis <= rank, "flatten axis {} is out of range for rank {}", axis, rank);
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < rank; ++i) (i < axis ? outer : inner) *= in[static_cast<size_t>(i)];
  return {outer, inner};
}

Dims squeeze_dims(const Dims& in, std::vector<int64_t> axes) {
  const int rank = static_cast<int>(in.size());
  std::vector<bool> drop(in.size(), false);
  if (axes.empty()) {
    for (int i = 0; i < rank; ++i) drop[static_cast<size_t>(i)] = in[static_cast<size_t>(i)] == 1;
  }
  for (int64_t a : axes) {
    const int axis = normalize_axis(a, rank);
    OSPREY_CHECK(in[static_cast<size_t>(axis)] == 1, "cannot squeeze axis {} of size {}", axis,
                 in[static_cast<size_t>(axis)]);
    drop[static_cast<size_t>(axis)] = true;
  }
  Dims out;
  for (int i = 0; i < rank; ++i) {
    if (!drop[static_cast<size_t>(i)]) out.push_back(in[static_cast<size_t>(i)]);
  }
  return out;
}

Dims unsqueeze_dims(const Dims& in, std::vector<int64_t> axes) {
  const int rank = static_cast<int>(in.size() + axes.size());
  std::vector<bool> added(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    const int axis = normalize_axis(a, rank);
    OSPREY_CHECK(!added[static_cast<size_t>(axis)], "unsqueeze repeats axis {}", axis);
    added[static_cast<size_t>(axis)] = true;
  }
  Dims out;
  size_t next = 0;
  for (int i = 0; i < rank; ++i) out.push_back(added[static_cast<size_t>(i)] ? 1 : in[next++]);
  return out;
}

Dims broadcast_dims(const Dims& a, const Dims& b) {
  const size_t rank = std::max(a.size(), b.size());
  Dims out(rank, 1);
  for (size_t k = 0; k < rank; ++k) {
    const int64_t da = k < a.size() ? a[a.size() - 1 - k] : 1;
    const int64_t db = k < b.size() ? b[b.size() - 1 - k] : 1;
    OSPREY_CHECK(da == db || da == 1 || db == 1, "shapes do not broadcast ({} against {})", da, db);
    out[rank - 1 - k] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int64_t> squeeze_axes(Builder& b, const Node& node) {
  if (b.opset() < 13) return attr_ints(node, "axes");
  const std::string axes = Builder::input(node, 1);
  return axes.empty() ? std::vector<int64_t>{} : b.constant(axes).ints();
}

SliceDims slice_dims(Builder& b, const Node& node) {
  const Dims& in = b.dims(node.input(0));
  const int rank = static_cast<int>(in.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (b.opset() < 10) {
    starts = attr_ints(node, "starts");
    ends = attr_ints(node, "ends");
    axes = attr_ints(node, "axes");
  } else {
    starts = b.constant(node.input(1)).ints();
    ends = b.constant(node.input(2)).ints();
    if (!Builder::input(node, 3).empty()) axes = b.constant(node.input(3)).ints();
    if (!Builder::input(node, 4).empty()) steps = b.constant(node.input(4)).ints();
  }
  if (axes.empty()) {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  OSPREY_CHECK(starts.size() == ends.size() && starts.size() == axes.size() && starts.size() == steps.size(),
               "starts, ends, axes and steps differ in length");
  SliceDims s;
  s.begin.assign(in.size(), 0);
  s.step.assign(in.size(), 1);
  s.out = in;
  std::vector<bool> seen(in.size(), false);
  for (size_t i = 0; i < starts.size(); ++i) {
    const int axis = normalize_axis(axes[i], rank);
    OSPREY_CHECK(!seen[static_cast<size_t>(axis)], "slice repeats axis {}", axis);
    seen[static_cast<size_t>(axis)] = true;
    const int64_t dim = in[static_cast<size_t>(axis)];
    const int64_t step = steps[i];
    OSPREY_CHECK(step != 0, "slice step is 0");
    int64_t start = starts[i], end = ends[i];
    if (start < 0) start = start < -dim ? (step > 0 ? 0 : -1) : start + dim;
    if (end < 0) end = end < -dim ? -1 : end + dim;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
    } else {
      start = std::clamp<int64_t>(start, -1, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
    }
    const int64_t count = step > 0 ? (end > start ? (end - start + step - 1) / step : 0)
                                   : (start > end ? (start - end - step - 1) / -step : 0);
    s.begin[static_cast<size_t>(axis)] = start;
    s.step[static_cast<size_t>(axis)] = step;
    s.out[static_cast<size_t>(axis)] = count;
  }
  return s;
}

}  // namespace osprey::onnx
