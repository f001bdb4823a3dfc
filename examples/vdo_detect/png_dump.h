// Dumps the RGB pixels a detector was given, for checking its results offline.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Writes `height` rows of `width` RGB pixels, `row_pitch` bytes apart, as an
// 8-bit RGB PNG. Returns false (errno set) when the file cannot be written.
bool png_dump_rgb(const char* path, const uint8_t* rgb, unsigned width, unsigned height, size_t row_pitch);
