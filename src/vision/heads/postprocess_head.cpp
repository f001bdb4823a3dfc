#include "vision/heads/postprocess_head.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace osprey::vision {
namespace {

constexpr std::string_view kOpName = "TFLite_Detection_PostProcess";

int output_position(const Graph& graph, int tensor) {
  const auto it = std::find(graph.outputs.begin(), graph.outputs.end(), tensor);
  return it == graph.outputs.end() ? -1 : static_cast<int>(it - graph.outputs.begin());
}

}  // namespace

std::shared_ptr<const Head> PostprocessHead::parse(const ManifestFields& head) {
  PostprocessParams p;
  if (head.has("outputs")) {
    const ManifestFields outputs = head.child("outputs");
    p.boxes_output = outputs.get<int>("boxes", 0);
    p.classes_output = outputs.get<int>("classes", 1);
    p.scores_output = outputs.get<int>("scores", 2);
    p.count_output = outputs.get<int>("count", 3);
  }
  p.classes_per_detection = head.get<int>("classes_per_detection", 1);
  p.label_offset = head.get<int>("label_offset", 0);
  p.min_score = head.get<float>("min_score", 0.0f);
  OSPREY_CHECK(p.classes_per_detection >= 1, "{}.classes_per_detection: {} is below 1", head.path(),
               p.classes_per_detection);
  OSPREY_CHECK(p.label_offset >= 0, "{}.label_offset: {} is negative", head.path(), p.label_offset);
  for (int o : {p.boxes_output, p.classes_output, p.scores_output, p.count_output})
    OSPREY_CHECK(o >= 0, "{}.outputs: output {} is negative", head.path(), o);
  return std::make_shared<const PostprocessHead>(p);
}

std::shared_ptr<const PostprocessHead> PostprocessHead::from_graph(const Graph& graph) {
  if (graph.ops.empty()) return nullptr;
  const Op& op = graph.ops.back();
  const auto* options = std::get_if<DetectionPostprocessOptions>(&op.options);
  if (op.code != static_cast<int32_t>(OpCode::kCustom) || op.custom_code != kOpName || options == nullptr ||
      op.inputs.size() != 3 || op.outputs.size() != 4 || op.inputs[1] < 0)
    return nullptr;
  PostprocessParams p;
  int* outputs[] = {&p.boxes_output, &p.classes_output, &p.scores_output, &p.count_output};
  for (size_t i = 0; i < 4; ++i) {
    *outputs[i] = output_position(graph, op.outputs[i]);
    if (*outputs[i] < 0) return nullptr;
  }
  p.classes_per_detection = options->max_classes_per_detection;
  const Tensor& predictions = graph.tensors[static_cast<size_t>(op.inputs[1])];
  if (predictions.rank() == 3) p.label_offset = std::max(0, predictions.dim(2) - options->num_classes);
  return std::make_shared<const PostprocessHead>(p);
}

void PostprocessHead::check_outputs(const std::string& model, int num_outputs) const {
  for (int o : {params_.boxes_output, params_.classes_output, params_.scores_output, params_.count_output})
    OSPREY_CHECK(o < num_outputs, "model '{}' has {} outputs; its post-process head wants output {}", model,
                 num_outputs, o);
}

PostprocessHead PostprocessHead::with_min_score(float min_score) const {
  PostprocessHead head = *this;
  head.params_.min_score = min_score;
  return head;
}

PostprocessHead::Result PostprocessHead::decode(const ModelOutputs& outputs,
                                                const InputTransform& geometry) const {
  const std::vector<float> boxes = tensor_values(outputs.at(params_.boxes_output));
  const std::vector<float> classes = tensor_values(outputs.at(params_.classes_output));
  const std::vector<float> scores = tensor_values(outputs.at(params_.scores_output));
  const std::vector<float> count = tensor_values(outputs.at(params_.count_output));
  OSPREY_CHECK(!count.empty(), "the post-process count output is empty");
  const size_t slots = std::min({boxes.size() / 4, classes.size(), scores.size()});
  const auto per_box = static_cast<size_t>(params_.classes_per_detection);
  // The count is a float the model computed: anything odd means no detections.
  const float reported = count[0];
  const size_t counted =
      std::isfinite(reported) && reported > 0 ? static_cast<size_t>(std::min<double>(reported, slots)) : 0;
  Result found;
  for (size_t slot = 0; slot < std::min(slots, counted * per_box); ++slot) {
    if (!(scores[slot] >= params_.min_score) || !std::isfinite(classes[slot])) continue;
    Detection d;
    d.box = {boxes[4 * slot + 1], boxes[4 * slot], boxes[4 * slot + 3], boxes[4 * slot + 2]};
    d.score = scores[slot];
    d.class_id = static_cast<int>(std::clamp(classes[slot], 0.0f, 1e6f)) + params_.label_offset;
    found.push_back(to_image_coordinates(d, geometry));
  }
  return found;
}

}  // namespace osprey::vision
