// SSD-style detection (MediaPipe's face, palm and pose detectors, SSD
// MobileNet): anchors + box decoding + non-max suppression, mapped to image
// pixels. Manifest type "ssd-detection".
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "vision/anchors.h"
#include "vision/box_decoder.h"
#include "vision/detection.h"
#include "vision/heads/head.h"
#include "vision/nms.h"

namespace osprey::vision {

struct DetectionParams {
  int boxes_output = 0;   // index of the [1, num_boxes, num_coords] output
  int scores_output = 1;  // index of the [1, num_boxes, num_classes] output
  SsdAnchorOptions anchors;
  BoxDecoderOptions decoder;
  NmsOptions nms;
};

class DetectionHead final : public Head {
 public:
  static constexpr std::string_view kType = "ssd-detection";
  using Result = std::vector<Detection>;  // image pixels, best first per NMS

  // Generates the anchors; `where` names the head in the error raised when
  // they do not number decoder.num_boxes.
  DetectionHead(DetectionParams params, const std::string& where);
  static std::shared_ptr<const Head> parse(const ManifestFields& head);

  std::string_view type() const override { return kType; }
  void check_outputs(const std::string& model, int num_outputs) const override;
  // The score logits when the decoder clamps them before its sigmoid.
  std::vector<OutputBound> output_bounds() const override;

  const DetectionParams& params() const { return params_; }
  std::span<const Anchor> anchors() const { return anchors_; }
  // The same head keeping detections scoring at least `min_score` instead of
  // the manifest's min_score_thresh (osprey detect --threshold).
  DetectionHead with_min_score(float min_score) const;

  Result decode(const ModelOutputs& outputs, const InputTransform& geometry) const;

 private:
  DetectionParams params_;
  std::vector<Anchor> anchors_;
};

}  // namespace osprey::vision
