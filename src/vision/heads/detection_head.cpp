// Field names follow MediaPipe's calculator options (SsdAnchorsCalculatorOptions,
// TensorsToDetectionsCalculatorOptions, NonMaxSuppressionCalculatorOptions)
// so manifest entries can be checked against the published graph configs.
#include "vision/heads/detection_head.h"

#include "core/error.h"

namespace osprey::vision {
namespace {

SsdAnchorOptions parse_anchors(const ManifestFields& r) {
  SsdAnchorOptions o;
  o.input_width = r.get<int>("input_size_width");
  o.input_height = r.get<int>("input_size_height");
  o.num_layers = r.get<int>("num_layers");
  o.min_scale = r.get<float>("min_scale");
  o.max_scale = r.get<float>("max_scale");
  o.strides = r.get<std::vector<int>>("strides");
  o.aspect_ratios = r.get<std::vector<float>>("aspect_ratios");
  o.anchor_offset_x = r.get<float>("anchor_offset_x", 0.5f);
  o.anchor_offset_y = r.get<float>("anchor_offset_y", 0.5f);
  o.reduce_boxes_in_lowest_layer = r.get<bool>("reduce_boxes_in_lowest_layer", false);
  o.interpolated_scale_aspect_ratio = r.get<float>("interpolated_scale_aspect_ratio", 1.0f);
  o.fixed_anchor_size = r.get<bool>("fixed_anchor_size", false);
  return o;
}

ScoreActivation parse_activation(const std::string& name) {
  if (name == "sigmoid") return ScoreActivation::kSigmoid;
  if (name == "softmax") return ScoreActivation::kSoftmax;
  if (name == "none") return ScoreActivation::kNone;
  fail("unknown score activation '{}' (expected sigmoid, softmax or none)", name);
}

BoxDecoderOptions parse_decoder(const ManifestFields& r) {
  BoxDecoderOptions o;
  o.num_classes = r.get<int>("num_classes");
  o.num_boxes = r.get<int>("num_boxes");
  o.num_coords = r.get<int>("num_coords");
  o.box_coord_offset = r.get<int>("box_coord_offset", 0);
  o.keypoint_coord_offset = r.get<int>("keypoint_coord_offset", 0);
  o.num_keypoints = r.get<int>("num_keypoints", 0);
  o.num_values_per_keypoint = r.get<int>("num_values_per_keypoint", 2);
  o.x_scale = r.get<float>("x_scale");
  o.y_scale = r.get<float>("y_scale");
  o.w_scale = r.get<float>("w_scale");
  o.h_scale = r.get<float>("h_scale");
  o.apply_exponential_on_box_size = r.get<bool>("apply_exponential_on_box_size", false);
  o.reverse_output_order = r.get<bool>("reverse_output_order", false);
  o.activation = parse_activation(r.get<std::string>("score_activation", "sigmoid"));
  o.score_clipping_thresh = r.get<float>("score_clipping_thresh", 0.0f);
  o.min_score_thresh = r.get<float>("min_score_thresh", 0.5f);
  o.ignore_classes = r.get<std::vector<int>>("ignore_classes", {});
  validate(o);
  return o;
}

NmsOptions parse_nms(const ManifestFields& r) {
  NmsOptions o;
  const auto algorithm = r.get<std::string>("algorithm", "hard");
  if (algorithm == "weighted") {
    o.algorithm = NmsAlgorithm::kWeighted;
  } else if (algorithm == "hard") {
    o.algorithm = NmsAlgorithm::kHard;
  } else {
    fail("unknown NMS algorithm '{}' (expected hard or weighted)", algorithm);
  }
  o.iou_threshold = r.get<float>("min_suppression_threshold");
  o.per_class = r.get<bool>("per_class", false);
  o.max_detections = r.get<int>("max_num_detections", -1);
  return o;
}

}  // namespace

DetectionHead::DetectionHead(DetectionParams params, const std::string& where)
    : params_(std::move(params)), anchors_(generate_ssd_anchors(params_.anchors)) {
  OSPREY_CHECK(anchors_.size() == static_cast<size_t>(params_.decoder.num_boxes),
               "{}: anchor settings give {} anchors but num_boxes is {}", where, anchors_.size(),
               params_.decoder.num_boxes);
}

std::shared_ptr<const Head> DetectionHead::parse(const ManifestFields& head) {
  // The option checks do not know where their options came from: name it.
  return parse_naming_errors(head, [&] {
    DetectionParams params;
    if (head.has("outputs")) {
      const ManifestFields outputs = head.child("outputs");
      params.boxes_output = outputs.get<int>("boxes", 0);
      params.scores_output = outputs.get<int>("scores", 1);
    }
    params.anchors = parse_anchors(head.child("anchors"));
    params.decoder = parse_decoder(head.child("decoder"));
    params.nms = parse_nms(head.child("nms"));
    return std::make_shared<const DetectionHead>(std::move(params), head.path());
  });
}

void DetectionHead::check_outputs(const std::string& model, int num_outputs) const {
  OSPREY_CHECK(params_.boxes_output < num_outputs && params_.scores_output < num_outputs,
               "model '{}' has {} outputs; its metadata wants outputs {} and {}", model, num_outputs,
               params_.boxes_output, params_.scores_output);
}

std::vector<OutputBound> DetectionHead::output_bounds() const {
  const BoxDecoderOptions& d = params_.decoder;
  if (d.activation != ScoreActivation::kSigmoid || d.score_clipping_thresh <= 0) return {};
  return {{params_.scores_output, d.score_clipping_thresh, "decoder.score_clipping_thresh"}};
}

DetectionHead DetectionHead::with_min_score(float min_score) const {
  DetectionHead head = *this;
  head.params_.decoder.min_score_thresh = min_score;
  return head;
}

DetectionHead::Result DetectionHead::decode(const ModelOutputs& outputs,
                                            const InputTransform& geometry) const {
  Result found = decode_boxes(tensor_values(outputs.at(params_.boxes_output)),
                              tensor_values(outputs.at(params_.scores_output)), anchors_, params_.decoder);
  found = non_max_suppression(std::move(found), params_.nms);
  for (Detection& d : found) d = to_image_coordinates(d, geometry);
  return found;
}

}  // namespace osprey::vision
