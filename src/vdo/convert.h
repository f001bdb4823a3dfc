// Scales an I420 image to a stream's size and converts it to the stream's
// format with libyuv, straight into the buffer's memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "media/video_reader.h"
#include "vdo-types.h"

namespace osprey::vdo {

// Bytes of one image of this format and size (NV12: w*h + 2*ceil(w/2)*ceil(h/2)).
size_t image_bytes(VdoFormat format, unsigned width, unsigned height);
// Bytes per row of the first plane: what the stream info calls "pitch".
unsigned image_pitch(VdoFormat format, unsigned width);
// Takes the raw setting: a value outside VdoFormat is simply not served.
bool is_served_format(guint32 format);

// Converts src into dst (image_bytes(format, width, height) bytes). scratch
// is reused between calls to avoid allocating per frame.
void convert_image(const media::I420Image& src, VdoFormat format, unsigned width, unsigned height,
                   uint8_t* dst, std::vector<uint8_t>& scratch);

}  // namespace osprey::vdo
