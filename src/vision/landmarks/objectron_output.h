// What `osprey landmarks --pipeline objectron` prints for one frame: the
// landmark pipelines' JSON (landmark_output.h) with the object and, per
// subject, the detector class it was found as.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "vision/landmarks/objectron_pipeline.h"

namespace osprey::vision {

// {"pipeline": "objectron", "object", "image", "subjects": [{"score",
// "label", "box", "landmarks": 9 x [x, y, 0], "roi"}], "timing_ms"}.
nlohmann::ordered_json objectron_to_json(std::string_view object, int image_width, int image_height,
                                         const ObjectronFrame& frame);

}  // namespace osprey::vision
