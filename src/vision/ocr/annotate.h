// The picture with its text read: polygons drawn over the picture, and beside
// it a white panel where each line's text is written at its place.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vision/image.h"
#include "vision/ocr/ocr_pipeline.h"

namespace osprey::vision::ocr {

// The built-in font is ASCII: printable ASCII stays, every other UTF-8
// character becomes one '?'.
std::string printable_ascii(std::string_view utf8);

// An RGB image twice as wide as `image`.
Image annotate_text(const Image& image, const std::vector<TextLine>& lines);

}  // namespace osprey::vision::ocr
