// MediaPipe's landmark custom ops (version 2, as the face mesh's attention
// model uses them): Landmarks2TransformMatrix turns landmarks into the matrix
// of a rotated crop around some of them, TransformTensorBilinear samples a
// feature map through such a matrix, TransformLandmarks maps landmarks found
// in the crop back. Their options are flexbuffer maps, parsed once here.
#include "ops/custom_options.h"
#include "ops/registry.h"

// Definitions name only the fields an op has; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace osprey {
namespace ref {  // src/kernels/ref/landmark_transforms.cpp
extern const KernelFactory landmarks_to_transform_matrix_kernel;
extern const KernelFactory transform_tensor_bilinear_kernel;
extern const KernelFactory transform_landmarks_kernel;
}  // namespace ref
}  // namespace osprey

namespace osprey::ops {

namespace {

// Far above any real crop (MediaPipe's are 16x16) or landmark count (478).
constexpr int64_t kMaxCropSide = 1 << 16;
constexpr int64_t kMaxLandmarkIndex = (1 << 24) - 1;
constexpr size_t kMaxSubset = 1 << 16;

OpOptions parse_landmarks_to_transform_matrix(const RawOptions& raw) {
  const CustomOptionReader r(raw.custom);
  // Version 1 took the crop as input_hw/output_hw and a landmarks_range.
  OSPREY_CHECK(!r.has("input_hw"),
               "these are Landmarks2TransformMatrix version 1 options (input_hw); osprey runs version 2");
  LandmarksToTransformMatrixOptions o;
  o.left_rotation_idx = r.integer("left_rotation_idx", 0, kMaxLandmarkIndex);
  o.right_rotation_idx = r.integer("right_rotation_idx", 0, kMaxLandmarkIndex);
  o.target_rotation_radians = r.real("target_rotation_radians", 0.0);
  o.output_height = r.integer("output_height", 1, kMaxCropSide);
  o.output_width = r.integer("output_width", 1, kMaxCropSide);
  o.scale_x = r.real("scale_x");
  o.scale_y = r.real("scale_y");
  OSPREY_CHECK(o.scale_x > 0 && o.scale_y > 0,
               "custom options 'scale_x' {} and 'scale_y' {} must be positive", o.scale_x, o.scale_y);
  o.subset = r.integers("subset_idxs", 0, kMaxLandmarkIndex, kMaxSubset);
  OSPREY_CHECK(!o.subset.empty(), "custom option 'subset_idxs' is empty: the crop spans no landmark");
  return o;
}

OpOptions parse_transform_tensor_bilinear(const RawOptions& raw) {
  const CustomOptionReader r(raw.custom);
  TransformTensorBilinearOptions o;
  o.output_height = r.integer("output_height", 1, kMaxCropSide);
  o.output_width = r.integer("output_width", 1, kMaxCropSide);
  return o;
}

// Four taps per output value.
int64_t macs_transform_tensor_bilinear(const Graph& g, const Op& op) {
  return 4 * g.tensors[static_cast<size_t>(op.outputs[0])].num_elements();
}

}  // namespace

std::span<const OpDef> mediapipe_ops() {
  // Float only (MediaPipe has no integer form): the quantizer keeps them float.
  static const OpDef defs[] = {
      {.code = static_cast<int32_t>(OpCode::kCustom),
       .custom_name = "Landmarks2TransformMatrix",
       .name = "Landmarks2TransformMatrix",
       .parse = parse_landmarks_to_transform_matrix,
       .float_kernel = ref::landmarks_to_transform_matrix_kernel},
      {.code = static_cast<int32_t>(OpCode::kCustom),
       .custom_name = "TransformTensorBilinear",
       .name = "TransformTensorBilinear",
       .parse = parse_transform_tensor_bilinear,
       .float_kernel = ref::transform_tensor_bilinear_kernel,
       .macs = macs_transform_tensor_bilinear},
      {.code = static_cast<int32_t>(OpCode::kCustom),
       .custom_name = "TransformLandmarks",
       .name = "TransformLandmarks",
       .float_kernel = ref::transform_landmarks_kernel},
  };
  return defs;
}

}  // namespace osprey::ops
