// Per-pixel foreground probability (MediaPipe's selfie segmentation), mapped
// back onto the whole picture. Manifest type "segmentation".
#pragma once

#include <memory>
#include <string_view>

#include "vision/heads/head.h"
#include "vision/image.h"
#include "vision/segmentation.h"

namespace osprey::vision {

struct SegmentationParams {
  int output = 0;
  MaskActivation activation = MaskActivation::kNone;
  float threshold = 0.5f;  // default cut for a 0/255 mask
};

class SegmentationHead final : public Head {
 public:
  static constexpr std::string_view kType = "segmentation";
  using Result = Image;  // 8-bit gray probability, image size

  explicit SegmentationHead(SegmentationParams params) : params_(params) {}
  static std::shared_ptr<const Head> parse(const ManifestFields& head);

  std::string_view type() const override { return kType; }
  void check_outputs(const std::string& model, int num_outputs) const override;

  const SegmentationParams& params() const { return params_; }

  Result decode(const ModelOutputs& outputs, const InputTransform& geometry) const;

 private:
  SegmentationParams params_;
};

}  // namespace osprey::vision
