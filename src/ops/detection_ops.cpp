// Detection post-processing: the TFLite_Detection_PostProcess custom op that
// ends TF Object Detection API and Coral SSD models (box decoding + NMS).
// Its options are a flexbuffer map, parsed once here; the kernel only computes.
#include <flatbuffers/flexbuffers.h>

#include <cmath>
#include <limits>
#include <string>

#include "ops/custom_options.h"
#include "ops/registry.h"

// Definitions name only the fields an op has; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace osprey {
namespace ref {  // src/kernels/ref/detection_postprocess.cpp
extern const KernelFactory detection_postprocess_kernel;
}  // namespace ref
}  // namespace osprey

namespace osprey::ops {

namespace {

using namespace detail;

// Far above any real model (TF exports 10-100 detections, 90 classes), far
// below sizes whose products or output tensors could overflow.
constexpr int64_t kMaxDetectionsLimit = 1 << 16;
constexpr int64_t kMaxClassesLimit = 1 << 16;

OpOptions parse_detection_postprocess(const RawOptions& raw) {
  const CustomOptionReader r(raw.custom);
  DetectionPostprocessOptions o;
  o.max_detections = r.integer("max_detections", 1, kMaxDetectionsLimit);
  o.max_classes_per_detection = r.integer("max_classes_per_detection", 1, kMaxClassesLimit);
  o.use_regular_nms = r.number("use_regular_nms", 0.0) != 0;
  // Only regular NMS reads it; TFLite then needs it positive.
  o.detections_per_class = r.integer("detections_per_class", o.use_regular_nms ? 1 : 0,
                                     std::numeric_limits<int32_t>::max(), 100.0);
  o.nms_score_threshold = r.real("nms_score_threshold", 0.0);
  o.nms_iou_threshold = r.real("nms_iou_threshold");
  OSPREY_CHECK(o.nms_iou_threshold > 0 && o.nms_iou_threshold <= 1,
               "custom option 'nms_iou_threshold' is {}, expected above 0 and at most 1",
               o.nms_iou_threshold);
  o.num_classes = r.integer("num_classes", 1, kMaxClassesLimit);
  o.y_scale = r.real("y_scale");
  o.x_scale = r.real("x_scale");
  o.h_scale = r.real("h_scale");
  o.w_scale = r.real("w_scale");
  for (const auto& [name, value] : {std::pair{"y_scale", o.y_scale}, std::pair{"x_scale", o.x_scale},
                                    std::pair{"h_scale", o.h_scale}, std::pair{"w_scale", o.w_scale}}) {
    OSPREY_CHECK(value > 0, "custom option '{}' is {}, expected a positive box scale", name, value);
  }
  OSPREY_CHECK(int64_t{o.max_detections} * o.max_classes_per_detection <= kMaxDetectionsLimit,
               "max_detections {} times max_classes_per_detection {} exceeds {}", o.max_detections,
               o.max_classes_per_detection, kMaxDetectionsLimit);
  return o;
}

// The keys and value types TFLite's exporter writes.
std::vector<uint8_t> write_detection_postprocess(const Op& op) {
  const auto& o = options_of<DetectionPostprocessOptions>(op);
  flexbuffers::Builder b;
  b.Map([&] {
    b.Int("max_detections", o.max_detections);
    b.Int("max_classes_per_detection", o.max_classes_per_detection);
    b.Int("detections_per_class", o.detections_per_class);
    b.Bool("use_regular_nms", o.use_regular_nms);
    b.Float("nms_score_threshold", o.nms_score_threshold);
    b.Float("nms_iou_threshold", o.nms_iou_threshold);
    b.Int("num_classes", o.num_classes);
    b.Float("y_scale", o.y_scale);
    b.Float("x_scale", o.x_scale);
    b.Float("h_scale", o.h_scale);
    b.Float("w_scale", o.w_scale);
  });
  b.Finish();
  return b.GetBuffer();
}

// One IoU per pair of candidates dominates; counted as the decode (one per box encoding).
int64_t macs_detection_postprocess(const Graph& g, const Op& op) {
  return macs_per_input_element(g, op);
}

}  // namespace

std::span<const OpDef> detection_ops() {
  static const OpDef defs[] = {
      // Not quantizable: it takes float or uint8/int8 inputs and always gives float outputs.
      {.code = static_cast<int32_t>(OpCode::kCustom),
       .custom_name = "TFLite_Detection_PostProcess",
       .name = "TFLite_Detection_PostProcess",
       .parse = parse_detection_postprocess,
       .float_kernel = ref::detection_postprocess_kernel,
       .macs = macs_detection_postprocess,
       .single_version = true,
       .write_custom = write_detection_postprocess},
  };
  return defs;
}

}  // namespace osprey::ops
