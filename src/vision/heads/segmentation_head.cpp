#include "vision/heads/segmentation_head.h"

#include "core/error.h"

namespace osprey::vision {

std::shared_ptr<const Head> SegmentationHead::parse(const ManifestFields& head) {
  SegmentationParams params;
  params.output = head.get<int>("output", 0);
  const auto activation = head.get<std::string>("activation", "none");
  OSPREY_CHECK(activation == "none" || activation == "sigmoid",
               "{}.activation: '{}' (expected none or sigmoid)", head.path(), activation);
  params.activation = activation == "sigmoid" ? MaskActivation::kSigmoid : MaskActivation::kNone;
  params.threshold = head.get<float>("threshold", 0.5f);
  return std::make_shared<const SegmentationHead>(params);
}

void SegmentationHead::check_outputs(const std::string& model, int num_outputs) const {
  OSPREY_CHECK(params_.output < num_outputs, "model '{}' has no output {}", model, params_.output);
}

SegmentationHead::Result SegmentationHead::decode(const ModelOutputs& outputs,
                                                  const InputTransform& geometry) const {
  return mask_to_image(mask_from_tensor(outputs.at(params_.output), params_.activation), geometry);
}

}  // namespace osprey::vision
