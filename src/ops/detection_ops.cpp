// Detection post-processing: the TFLite_Detection_PostProcess custom op that
// ends TF Object Detection API and Coral SSD models (box decoding + NMS).
// Its options are a flexbuffer map, parsed once here; the kernel only computes.
#include <flatbuffers/flexbuffers.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "ops/registry.h"

// Definitions name only the fields an op has; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace osprey {
namespace ref {  // src/kernels/ref/detection_postprocess.cpp
std::unique_ptr<Kernel> detection_postprocess_kernel();
}  // namespace ref
}  // namespace osprey

namespace osprey::ops {

namespace {

using namespace detail;

// Far above any real model (TF exports 10-100 detections, 90 classes), far
// below sizes whose products or output tensors could overflow.
constexpr int64_t kMaxDetectionsLimit = 1 << 16;
constexpr int64_t kMaxClassesLimit = 1 << 16;
// The flexbuffer verifier asserts below this size.
constexpr size_t kMaxOptionBytes = 1 << 20;

const char* flex_type_name(const flexbuffers::Reference& v) {
  if (v.IsString()) return "a string";
  if (v.IsMap()) return "a map";
  if (v.IsVector() || v.IsTypedVector() || v.IsFixedTypedVector()) return "a vector";
  if (v.IsBlob()) return "a blob";
  if (v.IsKey()) return "a key";
  return "not a number";
}

class OptionReader {
 public:
  explicit OptionReader(std::span<const uint8_t> bytes) : bytes_(bytes.begin(), bytes.end()) {
    OSPREY_CHECK(!bytes_.empty(), "custom options are missing (expected a flexbuffer map)");
    OSPREY_CHECK(bytes_.size() < kMaxOptionBytes, "custom options have {} bytes, more than {}", bytes_.size(),
                 kMaxOptionBytes);
    OSPREY_CHECK(flexbuffers::VerifyBuffer(bytes_.data(), bytes_.size()),
                 "custom options ({} bytes) are not a valid flexbuffer", bytes_.size());
    const flexbuffers::Reference root = flexbuffers::GetRoot(bytes_.data(), bytes_.size());
    OSPREY_CHECK(root.IsMap(), "custom options are a flexbuffer but not a map");
    map_ = root.AsMap();
  }

  // The number under `key`; `fallback` when absent, an error when absent without one.
  double number(const char* key, std::optional<double> fallback = std::nullopt) const {
    const flexbuffers::Reference v = map_[key];
    if (v.IsNull()) {
      OSPREY_CHECK(fallback.has_value(), "custom option '{}' is missing", key);
      return *fallback;
    }
    OSPREY_CHECK(v.IsNumeric() || v.IsBool(), "custom option '{}' is {}, expected a number", key,
                 flex_type_name(v));
    const double d = v.AsDouble();
    OSPREY_CHECK(std::isfinite(d), "custom option '{}' is {}, expected a finite number", key, d);
    return d;
  }

  // TFLite reads integers with AsInt32 (a float truncates); here only within [low, high].
  int integer(const char* key, int64_t low, int64_t high,
              std::optional<double> fallback = std::nullopt) const {
    const double d = std::trunc(number(key, fallback));
    OSPREY_CHECK(d >= static_cast<double>(low) && d <= static_cast<double>(high),
                 "custom option '{}' is {}, expected {} to {}", key, d, low, high);
    return static_cast<int>(d);
  }

  float real(const char* key, std::optional<double> fallback = std::nullopt) const {
    const double d = number(key, fallback);
    OSPREY_CHECK(std::abs(d) <= std::numeric_limits<float>::max(), "custom option '{}' is {}, beyond float",
                 key, d);
    return static_cast<float>(d);
  }

 private:
  std::vector<uint8_t> bytes_;  // a copy: flexbuffers wants its buffer for the map's lifetime
  flexbuffers::Map map_ = flexbuffers::Map::EmptyMap();
};

OpOptions parse_detection_postprocess(const RawOptions& raw) {
  const OptionReader r(raw.custom);
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
