// Detections a model computes itself with TFLite_Detection_PostProcess (TF
// Object Detection API and Coral SSD models): its four outputs (boxes ymin,
// xmin, ymax, xmax in model-input units, classes, scores, count) read as
// detections in image pixels. Manifest type "tflite-detection-postprocess";
// also chosen automatically for any model whose last op is the post-process.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "graph/graph.h"
#include "vision/detection.h"
#include "vision/heads/head.h"

namespace osprey::vision {

struct PostprocessParams {
  // The op's four outputs, as indices into the model's outputs.
  int boxes_output = 0, classes_output = 1, scores_output = 2, count_output = 3;
  int classes_per_detection = 1;  // the op's max_classes_per_detection: slots per counted box
  // Added to the op's class ids to index the labels: 1 when the labels, like the
  // class predictions, start with a background entry the op skips.
  int label_offset = 0;
  float min_score = 0;  // detections below are dropped (the op already applied its threshold)
};

class PostprocessHead final : public Head {
 public:
  static constexpr std::string_view kType = "tflite-detection-postprocess";
  using Result = std::vector<Detection>;  // the op's order: best first

  explicit PostprocessHead(PostprocessParams params) : params_(params) {}
  static std::shared_ptr<const Head> parse(const ManifestFields& head);
  // The head reading `graph`'s post-process when it is the last op and its four
  // outputs are model outputs; nullptr otherwise.
  static std::shared_ptr<const PostprocessHead> from_graph(const Graph& graph);

  std::string_view type() const override { return kType; }
  void check_outputs(const std::string& model, int num_outputs) const override;

  const PostprocessParams& params() const { return params_; }
  PostprocessHead with_min_score(float min_score) const;

  Result decode(const ModelOutputs& outputs, const InputTransform& geometry) const;

 private:
  PostprocessParams params_;
};

}  // namespace osprey::vision
