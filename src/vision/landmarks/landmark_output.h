// What `osprey landmarks` prints and draws for one frame, shared with any
// other caller of LandmarkPipeline (the video loop prints one object per
// frame and adds "frame" and "timestamp_ms" itself).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "vision/image.h"
#include "vision/landmarks/landmark_pipeline.h"

namespace osprey::vision {

// {"pipeline", "image": {"width", "height"}, "subjects": [{"score", "box",
// "landmarks": [[x, y, z], ...], "roi", and per pipeline "handedness",
// "handedness_score", "visibility", "presence"}], "timing_ms"}; pixels of the
// original image (docs/landmarks.md).
nlohmann::ordered_json landmarks_to_json(std::string_view pipeline, int image_width, int image_height,
                                         const LandmarkFrame& frame, int reported_landmarks);

// An RGB copy with each subject's ROI, connections, points, handedness and
// (pose) segmentation mask drawn.
Image annotate_landmarks(const Image& image, const LandmarkFrame& frame, const LandmarkParams& params);

}  // namespace osprey::vision
