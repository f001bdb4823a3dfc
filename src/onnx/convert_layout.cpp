// Shape and data-movement ops: Reshape and friends (in ONNX layout), Transpose
// (composed with a pending NHWC transpose, so at most one TRANSPOSE remains),
// Concat/Slice/Split/Pad (axes rewritten for NHWC), Gather, Resize/Upsample.
#include <cmath>

#include "core/error.h"
#include "onnx/convert.h"
#include "onnx/shapes.h"

namespace osprey::onnx {

namespace {

void reshape_to(Builder& b, const Node& node, const Dims& out) {
  const int in = b.onnx_tensor(node.input(0));
  b.set_tensor(node.output(0), out, b.reshape(in, out, node.output(0)), false);
}

void convert_reshape(Builder& b, const Node& node) {
  const std::vector<int64_t> spec =
      b.opset() < 5 ? attr_ints(node, "shape") : b.constant(node.input(1)).ints();
  reshape_to(b, node, reshape_dims(b.dims(node.input(0)), spec, attr_int(node, "allowzero", 0) != 0));
}

void convert_flatten(Builder& b, const Node& node) {
  reshape_to(b, node, flatten_dims(b.dims(node.input(0)), attr_int(node, "axis", 1)));
}

void convert_squeeze(Builder& b, const Node& node) {
  reshape_to(b, node, squeeze_dims(b.dims(node.input(0)), squeeze_axes(b, node)));
}

void convert_unsqueeze(Builder& b, const Node& node) {
  reshape_to(b, node, unsqueeze_dims(b.dims(node.input(0)), squeeze_axes(b, node)));
}

bool is_identity(const std::vector<int32_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] != static_cast<int32_t>(i)) return false;
  }
  return true;
}

void convert_transpose(Builder& b, const Node& node) {
  const std::string x = node.input(0), out = node.output(0);
  const Value v = b.value(x);
  const int rank = static_cast<int>(v.dims.size());
  std::vector<int64_t> perm64 = attr_ints(node, "perm");
  if (perm64.empty()) {
    for (int d = rank - 1; d >= 0; --d) perm64.push_back(d);
  }
  OSPREY_CHECK(static_cast<int>(perm64.size()) == rank, "perm has {} entries for rank {}", perm64.size(),
               rank);
  std::vector<int32_t> perm;
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t p : perm64) {
    const int axis = normalize_axis(p, rank);
    OSPREY_CHECK(!seen[static_cast<size_t>(axis)], "perm repeats {}", axis);
    seen[static_cast<size_t>(axis)] = true;
    perm.push_back(axis);
  }
  const Dims out_dims = permute(v.dims, perm);
  // The permutation relative to the tensor actually held (NHWC when the value is).
  const bool from_nhwc = v.nhwc && !v.constant;
  std::vector<int32_t> source = perm;
  if (from_nhwc) {
    for (int32_t& p : source) p = kNhwcAxis[static_cast<size_t>(p)];
  }
  const int in = from_nhwc ? v.tensor : b.onnx_tensor(x);
  if (rank == 4) {
    std::vector<int32_t> to_nhwc;  // the output in NHWC, from the held tensor
    for (int32_t p : kToNhwc) to_nhwc.push_back(source[static_cast<size_t>(p)]);
    if (is_identity(to_nhwc)) return b.set_tensor(out, out_dims, in, true);
  }
  if (is_identity(source)) return b.set_tensor(out, out_dims, in, false);
  b.set_tensor(out, out_dims, b.transpose(in, source, out), false);
}

void convert_concat(Builder& b, const Node& node) {
  const std::string out = node.output(0);
  Dims dims = b.dims(node.input(0));
  const int rank = static_cast<int>(dims.size());
  const int axis = normalize_axis(attr_int(node, "axis", 0), rank);
  bool any_nhwc = false;
  dims[static_cast<size_t>(axis)] = 0;
  for (const std::string& in : node.input()) {
    const Value& v = b.value(in);
    OSPREY_CHECK(static_cast<int>(v.dims.size()) == rank, "Concat inputs differ in rank");
    for (int d = 0; d < rank; ++d) {
      OSPREY_CHECK(d == axis || v.dims[static_cast<size_t>(d)] == dims[static_cast<size_t>(d)],
                   "Concat inputs differ in dimension {}", d);
    }
    dims[static_cast<size_t>(axis)] += v.dims[static_cast<size_t>(axis)];
    any_nhwc |= v.nhwc && !v.constant;
  }
  const bool nhwc = any_nhwc && rank == 4;
  std::vector<int> tensors;
  for (const std::string& in : node.input()) tensors.push_back(b.tensor_in(in, nhwc));
  const int t = b.add_tensor(out, nhwc ? permute(dims, kToNhwc) : dims);
  b.add_op(OpCode::kConcatenation, tensors, {t},
           ConcatenationOptions{nhwc ? kNhwcAxis[static_cast<size_t>(axis)] : axis, Activation::kNone});
  b.set_tensor(out, dims, t, nhwc);
}

// STRIDED_SLICE of `x` (per ONNX axis: begin, step, count) in x's layout.
void strided_slice(Builder& b, const std::string& x, const std::vector<int64_t>& begin,
                   const std::vector<int64_t>& step, const Dims& out_dims, const std::string& out) {
  const Value v = b.value(x);
  const bool nhwc = v.nhwc && !v.constant;
  const size_t rank = v.dims.size();
  std::vector<int32_t> b32(rank), e32(rank), s32(rank);
  int end_mask = 0;
  for (size_t d = 0; d < rank; ++d) {
    const size_t pos = nhwc ? static_cast<size_t>(kNhwcAxis[d]) : d;
    b32[pos] = static_cast<int32_t>(begin[d]);
    s32[pos] = static_cast<int32_t>(step[d]);
    const int64_t end = begin[d] + out_dims[d] * step[d];
    e32[pos] = static_cast<int32_t>(end);
    if (end < 0) end_mask |= 1 << pos;  // a negative step running to the front
  }
  const int in = b.tensor_in(x, nhwc);
  const int tb = b.int32_tensor(out + "/begin", b32), te = b.int32_tensor(out + "/end", e32),
            ts = b.int32_tensor(out + "/strides", s32);
  const int t = b.add_tensor(out, nhwc ? permute(out_dims, kToNhwc) : out_dims);
  StridedSliceOptions o;
  o.end_mask = end_mask;
  b.add_op(OpCode::kStridedSlice, {in, tb, te, ts}, {t}, o);
  b.set_tensor(out, out_dims, t, nhwc);
}

void convert_slice(Builder& b, const Node& node) {
  const SliceDims s = slice_dims(b, node);
  strided_slice(b, node.input(0), s.begin, s.step, s.out, node.output(0));
}

void convert_split(Builder& b, const Node& node) {
  const Dims in = b.dims(node.input(0));
  const int rank = static_cast<int>(in.size());
  const int axis = normalize_axis(attr_int(node, "axis", 0), rank);
  std::vector<int64_t> sizes = attr_ints(node, "split");
  if (b.opset() >= 13 && !Builder::input(node, 1).empty()) sizes = b.constant(node.input(1)).ints();
  const int64_t dim = in[static_cast<size_t>(axis)];
  if (sizes.empty()) {
    OSPREY_CHECK(dim % node.output_size() == 0, "cannot split {} into {} equal parts", dim,
                 node.output_size());
    sizes.assign(static_cast<size_t>(node.output_size()), dim / node.output_size());
  }
  OSPREY_CHECK(static_cast<int>(sizes.size()) == node.output_size(), "split has {} sizes for {} outputs",
               sizes.size(), node.output_size());
  int64_t offset = 0;
  for (int i = 0; i < node.output_size(); ++i) {
    const int64_t size = sizes[static_cast<size_t>(i)];
    OSPREY_CHECK(size >= 0 && offset + size <= dim, "split sizes exceed dimension {}", dim);
    std::vector<int64_t> begin(in.size(), 0), step(in.size(), 1);
    Dims out = in;
    begin[static_cast<size_t>(axis)] = offset;
    out[static_cast<size_t>(axis)] = size;
    strided_slice(b, node.input(0), begin, step, out, node.output(i));
    offset += size;
  }
}

void convert_gather(Builder& b, const Node& node) {
  const std::string x = node.input(0);
  const Dims in = b.dims(x);
  const int axis = normalize_axis(attr_int(node, "axis", 0), static_cast<int>(in.size()));
  const Constant& indices = b.constant(node.input(1));
  std::vector<int32_t> idx;
  const int64_t dim = in[static_cast<size_t>(axis)];
  for (int64_t i : indices.ints()) {
    OSPREY_CHECK(i >= -dim && i < dim, "Gather index {} is out of range for dimension {}", i, dim);
    idx.push_back(static_cast<int32_t>(i < 0 ? i + dim : i));
  }
  Dims out(in.begin(), in.begin() + axis);
  out.insert(out.end(), indices.dims.begin(), indices.dims.end());
  out.insert(out.end(), in.begin() + axis + 1, in.end());
  const int ti = b.int32_tensor(node.output(0) + "/indices", idx, indices.dims);
  const int t = b.add_tensor(node.output(0), out);
  b.add_op(OpCode::kGather, {b.onnx_tensor(x), ti}, {t}, GatherOptions{axis, 0});
  b.set_tensor(node.output(0), out, t, false);
}

void convert_pad(Builder& b, const Node& node) {
  const std::string x = node.input(0), out = node.output(0);
  OSPREY_CHECK(attr_string(node, "mode", "constant") == "constant", "Pad mode '{}' is not supported",
               attr_string(node, "mode", "constant"));
  const Value v = b.value(x);
  const size_t rank = v.dims.size();
  std::vector<int64_t> pads = b.opset() < 11 ? attr_ints(node, "pads") : b.constant(node.input(1)).ints();
  float value = b.opset() < 11 ? attr_float(node, "value", 0.0f) : 0.0f;
  if (b.opset() >= 11 && !Builder::input(node, 2).empty())
    value = static_cast<float>(b.constant(node.input(2)).at(0));
  OSPREY_CHECK(b.opset() < 18 || Builder::input(node, 3).empty(), "Pad axes input is not supported");
  OSPREY_CHECK(pads.size() == 2 * rank, "pads has {} values for rank {}", pads.size(), rank);
  const bool nhwc = v.nhwc && !v.constant;
  std::vector<int32_t> paddings(2 * rank);
  Dims dims = v.dims;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t before = pads[d], after = pads[d + rank];
    OSPREY_CHECK(before >= 0 && after >= 0 && before < (1 << 20) && after < (1 << 20),
                 "negative or huge pads are not supported");
    const size_t pos = nhwc ? static_cast<size_t>(kNhwcAxis[d]) : d;
    paddings[2 * pos] = static_cast<int32_t>(before);
    paddings[2 * pos + 1] = static_cast<int32_t>(after);
    dims[d] += before + after;
  }
  const int in = b.tensor_in(x, nhwc);
  const int tp = b.int32_tensor(out + "/paddings", paddings, Dims{static_cast<int64_t>(rank), 2});
  const int t = b.add_tensor(out, nhwc ? permute(dims, kToNhwc) : dims);
  if (value == 0.0f)
    b.add_op(OpCode::kPad, {in, tp}, {t});
  else
    b.add_op(OpCode::kPadV2, {in, tp, b.float_tensor(out + "/value", {}, {value})}, {t});
  b.set_tensor(out, dims, t, nhwc);
}

// Resize and Upsample: the coordinate mapping must be one TFLite's resize ops have.
void resize(Builder& b, const Node& node, const std::vector<float>& scales, const std::vector<int64_t>& sizes,
            const std::string& mode, const std::string& coords, const std::string& nearest_mode) {
  const std::string x = node.input(0), out = node.output(0);
  const Dims in = b.dims(x);
  OSPREY_CHECK(in.size() == 4, "only 4-D Resize is supported, input has rank {}", in.size());
  Dims dims = in;
  if (!sizes.empty()) {
    OSPREY_CHECK(sizes.size() == 4, "sizes has {} values, expected 4", sizes.size());
    dims = sizes;
  } else {
    OSPREY_CHECK(scales.size() == 4, "scales has {} values, expected 4", scales.size());
    for (size_t d = 0; d < 4; ++d) {
      const double exact = static_cast<double>(in[d]) * scales[d];
      const double v = std::floor(exact);
      OSPREY_CHECK(v >= 1 && v <= (1 << 24), "scale {} gives output size {}", scales[d], v);
      // ONNX maps output to input coordinates by 1/scale, TFLite by the size
      // ratio: they agree only when the scale gives a whole output size.
      OSPREY_CHECK(
          exact - v <= 1e-5 * exact,
          "scale {} on a dimension of {} gives {:.4g}, not a whole size: TFLite would resize by {}/{} "
          "instead of the scale; give sizes, or a scale that divides evenly",
          scales[d], in[d], exact, static_cast<int64_t>(v), in[d]);
      dims[d] = static_cast<int64_t>(v);
    }
  }
  OSPREY_CHECK(dims[0] == in[0] && dims[1] == in[1],
               "Resize of the batch or channel dimension is not supported");
  OSPREY_CHECK(dims[2] >= 1 && dims[3] >= 1 && dims[2] <= (1 << 24) && dims[3] <= (1 << 24),
               "bad output size");
  ResizeOptions o;
  OpCode code;
  if (mode == "nearest") {
    code = OpCode::kResizeNearestNeighbor;
    if (coords == "asymmetric" && nearest_mode == "floor") {
    } else if (coords == "align_corners" && nearest_mode == "round_prefer_ceil") {
      o.align_corners = true;
    } else if ((coords == "half_pixel" && nearest_mode == "round_prefer_ceil") ||
               (coords == "tf_half_pixel_for_nn" && nearest_mode == "floor")) {
      o.half_pixel_centers = true;
    } else {
      fail("nearest Resize with coordinate_transformation_mode '{}' and nearest_mode '{}' has no TFLite form",
           coords, nearest_mode);
    }
  } else if (mode == "linear" || mode == "bilinear") {
    code = OpCode::kResizeBilinear;
    if (coords == "align_corners")
      o.align_corners = true;
    else if (coords == "half_pixel" || (coords == "pytorch_half_pixel" && dims[2] > 1 && dims[3] > 1))
      o.half_pixel_centers = true;
    else
      OSPREY_CHECK(coords == "asymmetric",
                   "linear Resize with coordinate_transformation_mode '{}' has no TFLite form", coords);
  } else {
    fail("Resize mode '{}' is not supported (nearest and linear are)", mode);
  }
  const int input = b.nhwc_tensor(x);
  const int size =
      b.int32_tensor(out + "/size", {static_cast<int32_t>(dims[2]), static_cast<int32_t>(dims[3])});
  const int t = b.add_tensor(out, permute(dims, kToNhwc));
  b.add_op(code, {input, size}, {t}, o);
  b.set_tensor(out, dims, t, true);
}

void convert_resize(Builder& b, const Node& node) {
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  std::string coords = attr_string(node, "coordinate_transformation_mode", "half_pixel");
  if (b.opset() < 11) {
    scales = b.constant(node.input(1)).f;
    coords = "asymmetric";
  } else {
    if (!Builder::input(node, 2).empty()) scales = b.constant(node.input(2)).f;
    if (!Builder::input(node, 3).empty()) sizes = b.constant(node.input(3)).ints();
  }
  OSPREY_CHECK(attr_int(node, "exclude_outside", 0) == 0, "Resize exclude_outside is not supported");
  resize(b, node, scales, sizes, attr_string(node, "mode", "nearest"), coords,
         b.opset() < 11 ? "floor" : attr_string(node, "nearest_mode", "round_prefer_floor"));
}

void convert_upsample(Builder& b, const Node& node) {
  std::vector<float> scales;
  if (node.input_size() > 1) {
    scales = b.constant(node.input(1)).f;
  } else if (const auto* a = find_attribute(node, "scales")) {
    scales.assign(a->floats().begin(), a->floats().end());
  }
  resize(b, node, scales, {}, attr_string(node, "mode", "nearest"), "asymmetric", "floor");
}

void convert_identity(Builder& b, const Node& node) {
  b.alias(node.output(0), node.input(0));
}

// Dropout is the identity at inference. In training mode (a true third input,
// opset 12 on) it drops at random, and its mask output has no TFLite op.
void convert_dropout(Builder& b, const Node& node) {
  OSPREY_CHECK(node.output_size() < 2 || node.output(1).empty(), "Dropout's mask output is not supported");
  const std::string training = Builder::input(node, 2);
  if (!training.empty()) {
    OSPREY_CHECK(b.is_constant(training), "Dropout's training_mode must be a constant");
    const std::vector<int64_t> mode = b.constant(training).ints();
    const std::string ratio = Builder::input(node, 1);
    const bool drops = ratio.empty() || !b.is_constant(ratio) || b.constant(ratio).f.empty() ||
                       b.constant(ratio).f[0] != 0.0f;
    OSPREY_CHECK(mode.empty() || mode[0] == 0 || !drops,
                 "Dropout in training mode drops at random; export the model for inference");
  }
  b.alias(node.output(0), node.input(0));
}

void convert_cast(Builder& b, const Node& node) {
  const int64_t to = attr_int(node, "to", 0);
  OSPREY_CHECK(to == ::onnx::TensorProto::FLOAT, "Cast of an activation to type {} is not supported", to);
  b.alias(node.output(0), node.input(0));  // activations are float32 already
}

}  // namespace

void add_layout_converters(ConverterTable& t) {
  t["Reshape"] = convert_reshape;
  t["Flatten"] = convert_flatten;
  t["Squeeze"] = convert_squeeze;
  t["Unsqueeze"] = convert_unsqueeze;
  t["Transpose"] = convert_transpose;
  t["Concat"] = convert_concat;
  t["Slice"] = convert_slice;
  t["Split"] = convert_split;
  t["Gather"] = convert_gather;
  t["Pad"] = convert_pad;
  t["Resize"] = convert_resize;
  t["Upsample"] = convert_upsample;
  t["Identity"] = convert_identity;
  t["Dropout"] = convert_dropout;
  t["Cast"] = convert_cast;
}

}  // namespace osprey::onnx
