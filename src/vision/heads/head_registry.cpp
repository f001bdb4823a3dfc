// The one list of head types: adding a head is one line here plus its own
// file, its manifest entries and its test.
#include <algorithm>
#include <array>
#include <utility>

#include "core/error.h"
#include "vision/heads/box_landmark_head.h"
#include "vision/heads/detection_head.h"
#include "vision/heads/head.h"
#include "vision/heads/landmark_head.h"
#include "vision/heads/postprocess_head.h"
#include "vision/heads/segmentation_head.h"

namespace osprey::vision {
namespace {

template <typename H>
constexpr std::pair<std::string_view, HeadParser> entry() {
  return {H::kType, &H::parse};
}

constexpr std::array kHeads = {
    entry<DetectionHead>(), entry<SegmentationHead>(), entry<PostprocessHead>(),
    entry<LandmarkHead>(),  entry<BoxLandmarkHead>(),
};

}  // namespace

HeadParser find_head_parser(std::string_view type) {
  for (const auto& [name, parser] : kHeads) {
    if (name == type) return parser;
  }
  return nullptr;
}

std::vector<std::string> head_types() {
  std::vector<std::string> types;
  for (const auto& head : kHeads) types.emplace_back(head.first);
  std::sort(types.begin(), types.end());
  return types;
}

std::shared_ptr<const Head> parse_head(const ManifestFields& head) {
  const auto type = head.get<std::string>("type");
  const HeadParser parser = find_head_parser(type);
  if (parser == nullptr) {
    std::string known;
    for (const std::string& t : head_types()) known += (known.empty() ? "" : ", ") + t;
    fail("{}.type: unknown head '{}' (known: {})", head.path(), type, known);
  }
  return parser(head);
}

}  // namespace osprey::vision
