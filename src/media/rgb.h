// Decoded I420 frames as packed R,G,B bytes, the layout vision::Image uses.
#pragma once

#include <cstdint>

#include "media/video_reader.h"

namespace osprey::media {

// Writes 3 * width * height bytes (BT.601 limited range, as decoders output).
void i420_to_rgb(const I420Image& image, uint8_t* rgb);

}  // namespace osprey::media
