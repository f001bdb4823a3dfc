// Ops that move, copy or resample values: reshapes, concatenation, padding, slicing, resizing.
#include "ops/registry.h"

// Definitions name only the fields an op has; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace osprey {
namespace ref {  // src/kernels/ref/layout.cpp, slice.cpp, resize.cpp
extern const KernelFactory reshape_kernel, squeeze_kernel, expand_dims_kernel, concatenation_kernel,
    split_kernel, pad_kernel, transpose_kernel, depth_to_space_kernel, gather_kernel, strided_slice_kernel,
    resize_bilinear_kernel, resize_nearest_neighbor_kernel;
}  // namespace ref
namespace ref::quantized {  // src/kernels/ref/quantized/resize.cpp
extern const KernelFactory resize_bilinear_kernel;
}  // namespace ref::quantized
}  // namespace osprey

namespace osprey::ops {

namespace {

using namespace detail;
using BO = tfl::BuiltinOptions;

template <typename T>
std::vector<T> to_vector(const flatbuffers::Vector<T>* v) {
  return v ? std::vector<T>(v->begin(), v->end()) : std::vector<T>{};
}

OpOptions parse_reshape(const RawOptions& raw) {
  ReshapeOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_ReshapeOptions() : nullptr; p && p->new_shape()) {
    o.has_new_shape = true;
    o.new_shape = to_vector(p->new_shape());
  }
  return o;
}
WrittenOptions write_reshape(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto& o = options_of<ReshapeOptions>(op);
  if (!o.has_new_shape) return {BO::NONE, 0};
  return {BO::ReshapeOptions, tfl::CreateReshapeOptions(b, b.CreateVector(o.new_shape)).Union()};
}

OpOptions parse_squeeze(const RawOptions& raw) {
  SqueezeOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_SqueezeOptions() : nullptr)
    o.squeeze_dims = to_vector(p->squeeze_dims());
  return o;
}
WrittenOptions write_squeeze(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  return {BO::SqueezeOptions,
          tfl::CreateSqueezeOptions(b, b.CreateVector(options_of<SqueezeOptions>(op).squeeze_dims)).Union()};
}

WrittenOptions write_expand_dims(flatbuffers::FlatBufferBuilder& b, const Op&) {
  return {BO::ExpandDimsOptions, tfl::CreateExpandDimsOptions(b).Union()};
}

OpOptions parse_concatenation(const RawOptions& raw) {
  ConcatenationOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_ConcatenationOptions() : nullptr) {
    o.axis = p->axis();
    o.activation = activation(p->fused_activation_function());
  }
  return o;
}
WrittenOptions write_concatenation(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto& o = options_of<ConcatenationOptions>(op);
  return {BO::ConcatenationOptions,
          tfl::CreateConcatenationOptions(b, o.axis, activation(o.activation)).Union()};
}

OpOptions parse_split(const RawOptions& raw) {
  SplitOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_SplitOptions() : nullptr)
    o.num_splits = p->num_splits();
  return o;
}
WrittenOptions write_split(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  return {BO::SplitOptions, tfl::CreateSplitOptions(b, options_of<SplitOptions>(op).num_splits).Union()};
}

WrittenOptions write_pad(flatbuffers::FlatBufferBuilder& b, const Op&) {
  return {BO::PadOptions, tfl::CreatePadOptions(b).Union()};
}
WrittenOptions write_transpose(flatbuffers::FlatBufferBuilder& b, const Op&) {
  return {BO::TransposeOptions, tfl::CreateTransposeOptions(b).Union()};
}

OpOptions parse_depth_to_space(const RawOptions& raw) {
  DepthToSpaceOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_DepthToSpaceOptions() : nullptr)
    o.block_size = p->block_size();
  return o;
}
WrittenOptions write_depth_to_space(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  return {BO::DepthToSpaceOptions,
          tfl::CreateDepthToSpaceOptions(b, options_of<DepthToSpaceOptions>(op).block_size).Union()};
}

OpOptions parse_gather(const RawOptions& raw) {
  GatherOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_GatherOptions() : nullptr) {
    o.axis = p->axis();
    o.batch_dims = p->batch_dims();
  }
  return o;
}
WrittenOptions write_gather(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto& o = options_of<GatherOptions>(op);
  return {BO::GatherOptions, tfl::CreateGatherOptions(b, o.axis, o.batch_dims).Union()};
}

OpOptions parse_strided_slice(const RawOptions& raw) {
  StridedSliceOptions o;
  if (const auto* p = raw.op ? raw.op->builtin_options_as_StridedSliceOptions() : nullptr) {
    o.begin_mask = p->begin_mask();
    o.end_mask = p->end_mask();
    o.ellipsis_mask = p->ellipsis_mask();
    o.new_axis_mask = p->new_axis_mask();
    o.shrink_axis_mask = p->shrink_axis_mask();
    o.offset = p->offset();
  }
  return o;
}
WrittenOptions write_strided_slice(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto& o = options_of<StridedSliceOptions>(op);
  return {BO::StridedSliceOptions,
          tfl::CreateStridedSliceOptions(b, o.begin_mask, o.end_mask, o.ellipsis_mask, o.new_axis_mask,
                                         o.shrink_axis_mask, o.offset)
              .Union()};
}

// Both resize ops keep align_corners and half_pixel_centers, each in a table type of its own.
template <typename Table, const Table* (tfl::Operator::*Get)() const>
OpOptions parse_resize(const RawOptions& raw) {
  ResizeOptions o;
  if (const Table* p = raw.op ? (raw.op->*Get)() : nullptr) {
    o.align_corners = p->align_corners();
    o.half_pixel_centers = p->half_pixel_centers();
  }
  return o;
}
WrittenOptions write_resize_bilinear(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto& o = options_of<ResizeOptions>(op);
  return {BO::ResizeBilinearOptions,
          tfl::CreateResizeBilinearOptions(b, o.align_corners, o.half_pixel_centers).Union()};
}
WrittenOptions write_resize_nearest(flatbuffers::FlatBufferBuilder& b, const Op& op) {
  const auto& o = options_of<ResizeOptions>(op);
  return {BO::ResizeNearestNeighborOptions,
          tfl::CreateResizeNearestNeighborOptions(b, o.align_corners, o.half_pixel_centers).Union()};
}
int version_resize(const Graph& g, const Op& op) {
  const auto* o = std::get_if<ResizeOptions>(&op.options);
  if (o && o->half_pixel_centers) return 3;
  return is_int8(g, op) ? 2 : 1;
}

// Moves bytes without arithmetic: no MACs, and int8 outputs keep their inputs' parameters.
OpDef move_op(OpCode code, std::string_view name, KernelFactory kernel, OptionCodec options,
              VersionRule version = version_2_for_int8, QuantRule quant = same_params()) {
  return builtin_op(code, name, options, {kernel}, std::move(quant), macs_none, version);
}

}  // namespace

std::span<const OpDef> layout_ops() {
  using enum OpCode;
  // The float kernels move int8/uint8 bytes as they are (PAD pads with the zero point);
  // only RESIZE_BILINEAR interpolates and so has an integer kernel of its own.
  static const OpDef defs[] = {
      move_op(kReshape, "RESHAPE", ref::reshape_kernel, {parse_reshape, write_reshape}, nullptr),
      move_op(kSqueeze, "SQUEEZE", ref::squeeze_kernel, {parse_squeeze, write_squeeze}, nullptr),
      move_op(kExpandDims, "EXPAND_DIMS", ref::expand_dims_kernel, {nullptr, write_expand_dims}, nullptr),
      move_op(kConcatenation, "CONCATENATION", ref::concatenation_kernel,
              {parse_concatenation, write_concatenation}, version_2_for_int8, shared_group_params()),
      move_op(kSplit, "SPLIT", ref::split_kernel, {parse_split, write_split}, version_2_for_int8,
              same_params({R::kInt, R::kData})),
      move_op(kPad, "PAD", ref::pad_kernel, {nullptr, write_pad}),
      {.code = static_cast<int32_t>(kPadV2),
       .name = "PADV2",
       .float_kernel = ref::pad_kernel,
       .quant = same_params({R::kData, R::kInt, R::kGroupConst})},
      move_op(kTranspose, "TRANSPOSE", ref::transpose_kernel, {nullptr, write_transpose}),
      move_op(kDepthToSpace, "DEPTH_TO_SPACE", ref::depth_to_space_kernel,
              {parse_depth_to_space, write_depth_to_space}),
      move_op(kGather, "GATHER", ref::gather_kernel, {parse_gather, write_gather}),
      move_op(kStridedSlice, "STRIDED_SLICE", ref::strided_slice_kernel,
              {parse_strided_slice, write_strided_slice}),
      {.code = static_cast<int32_t>(kResizeBilinear),
       .name = "RESIZE_BILINEAR",
       .parse =
           parse_resize<tfl::ResizeBilinearOptions, &tfl::Operator::builtin_options_as_ResizeBilinearOptions>,
       .write = write_resize_bilinear,
       .float_kernel = ref::resize_bilinear_kernel,
       .integer_kernel = ref::quantized::resize_bilinear_kernel,
       .quant = same_params(),
       .version = version_resize},
      {.code = static_cast<int32_t>(kResizeNearestNeighbor),
       .name = "RESIZE_NEAREST_NEIGHBOR",
       .parse = parse_resize<tfl::ResizeNearestNeighborOptions,
                             &tfl::Operator::builtin_options_as_ResizeNearestNeighborOptions>,
       .write = write_resize_nearest,
       .float_kernel = ref::resize_nearest_neighbor_kernel,
       .quant = same_params(),
       .version = version_resize},
  };
  return defs;
}

}  // namespace osprey::ops
