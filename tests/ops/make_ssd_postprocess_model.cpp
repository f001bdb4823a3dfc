// Builds SSD models that end in TFLite_Detection_PostProcess from the zoo's SSD
// detector, with osprey's model writer. The anchors (a constant tensor) and the
// op's options come from the model's zoo "head" entry (anchors, decoder scales,
// score and IoU thresholds, background class 0).
//
//   make_ssd_postprocess_model sigmoid IN.tflite OUT.tflite
//       appends LOGISTIC to output 1 (the scores the post-process expects are
//       probabilities; the zoo model gives logits). Quantize this one for uint8.
//   make_ssd_postprocess_model append IN.tflite OUT.tflite [options]
//       appends the post-process to outputs 0 (box encodings) and 1 (scores);
//       its four outputs become the model's outputs. uint8 inputs get uint8 anchors,
//       as TFLite reads the anchors with the box encodings' type.
//   make_ssd_postprocess_model alone IN.tflite OUT.tflite [options]
//       the post-process alone, its two inputs shaped and typed as IN's outputs 0 and 1.
// options: --spec NAME (default object_detection_ssd_mobilenetv2_oidv4_fp16),
//          --regular (regular NMS; default fast), --max-detections N (default 100),
//          --classes-per-detection N (default 1), --detections-per-class N (default 100),
//          --score-threshold T, --iou-threshold T (default: the head's)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/loader.h"
#include "model/model_file.h"
#include "model/writer.h"
#include "op_model_maker.h"
#include "vision/heads/detection_head.h"
#include "vision/model_metadata.h"

namespace osprey {
namespace {

struct Settings {
  std::string spec = "object_detection_ssd_mobilenetv2_oidv4_fp16";
  bool regular = false;
  int max_detections = 100;
  int classes_per_detection = 1;
  int detections_per_class = 100;
  float score_threshold = -1;  // < 0: the head's min_score_thresh
  float iou_threshold = -1;    // < 0: the head's NMS threshold
};

DetectionPostprocessOptions options_from(const vision::DetectionHead& head, const Settings& s) {
  const vision::BoxDecoderOptions& d = head.params().decoder;
  OSPREY_CHECK(d.apply_exponential_on_box_size && !d.reverse_output_order && d.box_coord_offset == 0,
               "spec '{}': the post-process decodes y, x, h, w with exponential sizes", s.spec);
  OSPREY_CHECK(d.ignore_classes.empty() || d.ignore_classes == std::vector<int>{0},
               "spec '{}': only class 0 can be ignored (as the background class)", s.spec);
  DetectionPostprocessOptions o;
  o.max_detections = s.max_detections;
  o.max_classes_per_detection = s.classes_per_detection;
  o.detections_per_class = s.detections_per_class;
  o.use_regular_nms = s.regular;
  o.nms_score_threshold = s.score_threshold >= 0 ? s.score_threshold : d.min_score_thresh;
  o.nms_iou_threshold = s.iou_threshold >= 0 ? s.iou_threshold : head.params().nms.iou_threshold;
  o.num_classes = d.num_classes - (d.ignore_classes.empty() ? 0 : 1);
  o.y_scale = d.y_scale;
  o.x_scale = d.x_scale;
  o.h_scale = d.h_scale;
  o.w_scale = d.w_scale;
  return o;
}

int add_tensor(Graph& g, const std::string& name, DType type, Shape shape) {
  Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  g.tensors.push_back(std::move(t));
  return static_cast<int>(g.tensors.size()) - 1;
}

// Anchors as TFLite takes them: [boxes, 4] of y, x, h, w; uint8 (own range) when `quantized`.
int add_anchors(Graph& g, const vision::DetectionHead& head, bool quantized) {
  std::vector<float> values;
  for (const vision::Anchor& a : head.anchors())
    values.insert(values.end(), {a.y_center, a.x_center, a.h, a.w});
  const int index = add_tensor(g, "anchors", quantized ? DType::kUInt8 : DType::kFloat32,
                               {static_cast<int32_t>(head.anchors().size()), 4});
  Tensor& t = g.tensors[static_cast<size_t>(index)];
  t.is_constant = true;
  uint8_t* data = g.allocate_constant(t);
  if (!quantized) {
    std::memcpy(data, values.data(), values.size() * sizeof(float));
    return index;
  }
  const float lo = std::min(0.0f, *std::min_element(values.begin(), values.end()));
  const float hi = std::max(0.0f, *std::max_element(values.begin(), values.end()));
  const float scale = (hi - lo) / 255.0f;
  const auto zero_point = static_cast<int64_t>(std::lround(-lo / scale));
  t.quant.scale = {scale};
  t.quant.zero_point = {zero_point};
  for (size_t i = 0; i < values.size(); ++i)
    data[i] = static_cast<uint8_t>(std::clamp<long>(std::lround(values[i] / scale) + zero_point, 0, 255));
  return index;
}

// Appends the post-process on tensors `boxes` and `scores`; its outputs become the model's.
void append_postprocess(Graph& g, int boxes, int scores, const vision::DetectionHead& head,
                        const Settings& s) {
  const DetectionPostprocessOptions o = options_from(head, s);
  const DType box_type = g.tensors[static_cast<size_t>(boxes)].type;
  const int anchors = add_anchors(g, head, box_type != DType::kFloat32);
  const int32_t slots = o.max_detections * o.max_classes_per_detection;
  Op op;
  op.index = static_cast<int>(g.ops.size());
  op.code = static_cast<int32_t>(OpCode::kCustom);
  op.custom_code = "TFLite_Detection_PostProcess";
  op.options = o;
  op.inputs = {boxes, scores, anchors};
  op.outputs = {add_tensor(g, "detection_boxes", DType::kFloat32, {1, slots, 4}),
                add_tensor(g, "detection_classes", DType::kFloat32, {1, slots}),
                add_tensor(g, "detection_scores", DType::kFloat32, {1, slots}),
                add_tensor(g, "num_detections", DType::kFloat32, {1})};
  g.outputs = op.outputs;
  g.ops.push_back(std::move(op));
}

void append_sigmoid(Graph& g) {
  OSPREY_CHECK(g.outputs.size() >= 2, "the model has {} outputs, expected boxes and scores",
               g.outputs.size());
  const Tensor& logits = g.tensors[static_cast<size_t>(g.outputs[1])];
  OSPREY_CHECK(logits.type == DType::kFloat32, "output 1 is {}, expected float32 logits",
               dtype_name(logits.type));
  const int out = add_tensor(g, logits.name + "_sigmoid", DType::kFloat32, logits.shape);
  Op op;
  op.index = static_cast<int>(g.ops.size());
  op.code = static_cast<int32_t>(OpCode::kLogistic);
  op.inputs = {g.outputs[1]};
  op.outputs = {out};
  g.ops.push_back(std::move(op));
  g.outputs[1] = out;
}

// A graph whose inputs are copies of `source`'s outputs 0 and 1 (no data).
Graph postprocess_alone(const Graph& source) {
  OSPREY_CHECK(source.outputs.size() >= 2, "the model has {} outputs, expected boxes and scores",
               source.outputs.size());
  Graph g;
  for (int i = 0; i < 2; ++i) {
    Tensor t = source.tensors[static_cast<size_t>(source.outputs[static_cast<size_t>(i)])];
    t.is_constant = false;
    t.data = nullptr;
    t.name = i == 0 ? "box_encodings" : "class_predictions";
    g.tensors.push_back(std::move(t));
  }
  g.inputs = {0, 1};
  return g;
}

Settings parse_settings(int argc, char** argv) {
  Settings s;
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&] {
      OSPREY_CHECK(i + 1 < argc, "{} needs a value", a);
      return std::string(argv[++i]);
    };
    if (a == "--spec") {
      s.spec = value();
    } else if (a == "--regular") {
      s.regular = true;
    } else if (a == "--max-detections") {
      s.max_detections = std::stoi(value());
    } else if (a == "--classes-per-detection") {
      s.classes_per_detection = std::stoi(value());
    } else if (a == "--detections-per-class") {
      s.detections_per_class = std::stoi(value());
    } else if (a == "--score-threshold") {
      s.score_threshold = std::stof(value());
    } else if (a == "--iou-threshold") {
      s.iou_threshold = std::stof(value());
    } else {
      fail("unknown option '{}'", a);
    }
  }
  return s;
}

int run(int argc, char** argv) {
  const std::string mode = argv[1];
  OSPREY_CHECK(mode == "sigmoid" || mode == "append" || mode == "alone", "unknown mode '{}'", mode);
  const auto file = ModelFile::open(argv[2]);
  Graph g = load_graph(*file);
  if (mode == "sigmoid") {
    append_sigmoid(g);
  } else {
    const Settings s = parse_settings(argc, argv);
    const vision::ModelSpec spec = vision::load_model_spec(vision::zoo_manifest_path(), s.spec);
    const auto& head = spec.head_as<vision::DetectionHead>();
    OSPREY_CHECK(g.outputs.size() >= 2, "the model has {} outputs, expected boxes and scores",
                 g.outputs.size());
    if (mode == "alone") g = postprocess_alone(g);
    const int boxes = mode == "alone" ? 0 : g.outputs[0];
    const int scores = mode == "alone" ? 1 : g.outputs[1];
    append_postprocess(g, boxes, scores, head, s);
  }
  op_tests::write_file(argv[3], write_tflite(g));
  return 0;
}

}  // namespace
}  // namespace osprey

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: make_ssd_postprocess_model sigmoid|append|alone IN.tflite OUT.tflite [--spec NAME] "
                 "[--regular] [--max-detections N] [--classes-per-detection N] [--detections-per-class N] "
                 "[--score-threshold T] [--iou-threshold T]\n");
    return 2;
  }
  return osprey::op_tests::run_maker([&] { return osprey::run(argc, argv); });
}
