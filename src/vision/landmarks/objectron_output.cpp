#include "vision/landmarks/objectron_output.h"

#include "vision/landmarks/landmark_output.h"

namespace osprey::vision {

nlohmann::ordered_json objectron_to_json(std::string_view object, int image_width, int image_height,
                                         const ObjectronFrame& frame) {
  using nlohmann::ordered_json;
  const int keypoints = frame.frame.subjects.empty()
                            ? 0
                            : static_cast<int>(frame.frame.subjects.front().result.landmarks.size());
  const ordered_json common =
      landmarks_to_json("objectron", image_width, image_height, frame.frame, keypoints);
  // Same keys, with "object" after "pipeline" and "label" after each "score".
  ordered_json out;
  for (const auto& [key, value] : common.items()) {
    if (key == "subjects") {
      ordered_json subjects = ordered_json::array();
      for (size_t i = 0; i < value.size(); ++i) {
        ordered_json subject;
        for (const auto& [k, v] : value[i].items()) {
          subject[k] = v;
          if (k == "score") subject["label"] = i < frame.labels.size() ? frame.labels[i] : "";
        }
        subjects.push_back(std::move(subject));
      }
      out[key] = std::move(subjects);
    } else {
      out[key] = value;
    }
    if (key == "pipeline") out["object"] = object;
  }
  return out;
}

}  // namespace osprey::vision
