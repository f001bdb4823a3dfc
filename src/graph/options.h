// Parsed operator options: each op's parser in the op registry (src/ops), run
// by the loader, turns its flatbuffer options table (or a custom op's options
// bytes) into one of these plain structs, so kernels never see the format.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

namespace osprey {

enum class Activation : int8_t { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3, kTanh = 4, kSignBit = 5 };
enum class Padding : int8_t { kSame = 0, kValid = 1 };

struct Conv2DOptions {
  Padding padding = Padding::kSame;
  int stride_w = 1, stride_h = 1;
  int dilation_w = 1, dilation_h = 1;
  Activation activation = Activation::kNone;
};

struct DepthwiseConv2DOptions {
  Padding padding = Padding::kSame;
  int stride_w = 1, stride_h = 1;
  int dilation_w = 1, dilation_h = 1;
  int depth_multiplier = 1;
  Activation activation = Activation::kNone;
};

// TRANSPOSE_CONV, and MediaPipe's Convolution2DTransposeBias (from its custom options).
struct TransposeConvOptions {
  Padding padding = Padding::kSame;
  int stride_w = 1, stride_h = 1;
  Activation activation = Activation::kNone;
};

struct Pool2DOptions {
  Padding padding = Padding::kSame;
  int stride_w = 1, stride_h = 1;
  int filter_w = 1, filter_h = 1;
  Activation activation = Activation::kNone;
};

struct FullyConnectedOptions {
  Activation activation = Activation::kNone;
  bool keep_num_dims = false;
};

// ADD, SUB, MUL, DIV, CONCATENATION carry only a fused activation (and an axis).
struct ElementwiseOptions {
  Activation activation = Activation::kNone;
};

struct ConcatenationOptions {
  int axis = 0;
  Activation activation = Activation::kNone;
};

struct SoftmaxOptions {
  float beta = 1.0f;
};

struct ResizeOptions {
  bool align_corners = false;
  bool half_pixel_centers = false;
};

struct ReshapeOptions {
  bool has_new_shape = false;
  std::vector<int32_t> new_shape;
};

struct ReducerOptions {
  bool keep_dims = false;
};

struct SqueezeOptions {
  std::vector<int32_t> squeeze_dims;
};

struct StridedSliceOptions {
  int begin_mask = 0, end_mask = 0, ellipsis_mask = 0, new_axis_mask = 0, shrink_axis_mask = 0;
  bool offset = false;
};

struct SplitOptions {
  int num_splits = 1;
};

struct DepthToSpaceOptions {
  int block_size = 1;
};

struct LeakyReluOptions {
  float alpha = 0.2f;
};

struct GatherOptions {
  int axis = 0;
  int batch_dims = 0;
};

// TFLite_Detection_PostProcess (custom op; its flexbuffer map keys in the comments).
struct DetectionPostprocessOptions {
  int max_detections = 0;             // max_detections
  int max_classes_per_detection = 1;  // max_classes_per_detection (fast NMS)
  int detections_per_class = 100;     // detections_per_class (regular NMS; absent: 100)
  float nms_score_threshold = 0;      // nms_score_threshold
  float nms_iou_threshold = 0;        // nms_iou_threshold
  int num_classes = 0;                // num_classes, without the background class
  float y_scale = 0, x_scale = 0, h_scale = 0, w_scale = 0;
  bool use_regular_nms = false;  // use_regular_nms (absent: false, the fast variant)
};

// MediaPipe's Landmarks2TransformMatrix (version 2; custom op, its flexbuffer
// map keys in the comments): the matrix that maps an output_width x
// output_height crop onto the landmarks' box, rotated to level two of them.
struct LandmarksToTransformMatrixOptions {
  int left_rotation_idx = 0, right_rotation_idx = 0;  // left_rotation_idx, right_rotation_idx
  float target_rotation_radians = 0;                  // target_rotation_radians
  int output_height = 0, output_width = 0;            // output_height, output_width
  float scale_x = 1, scale_y = 1;                     // scale_x, scale_y
  std::vector<int> subset;                            // subset_idxs: the landmarks the box spans
};

// MediaPipe's TransformTensorBilinear (version 2): the crop's size.
struct TransformTensorBilinearOptions {
  int output_height = 0, output_width = 0;  // output_height, output_width
};

// BATCH_MATMUL: adj_x / adj_y transpose the last two dimensions of an input.
struct BatchMatMulOptions {
  bool adj_x = false;
  bool adj_y = false;
};

using OpOptions = std::variant<std::monostate, Conv2DOptions, DepthwiseConv2DOptions, TransposeConvOptions,
                               Pool2DOptions, FullyConnectedOptions, ElementwiseOptions, ConcatenationOptions,
                               SoftmaxOptions, ResizeOptions, ReshapeOptions, ReducerOptions, SqueezeOptions,
                               StridedSliceOptions, SplitOptions, DepthToSpaceOptions, LeakyReluOptions,
                               GatherOptions, DetectionPostprocessOptions, BatchMatMulOptions,
                               LandmarksToTransformMatrixOptions, TransformTensorBilinearOptions>;

}  // namespace osprey
