// A tiny built-in 5x7 bitmap font for annotating pictures.
#pragma once

#include <array>
#include <cstdint>

namespace osprey::vision {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 7;

// Rows top to bottom; bit 4 is the leftmost column. Lower-case letters use
// the upper-case glyphs; characters without a glyph come back as '?'.
const std::array<uint8_t, kGlyphHeight>& glyph(char c);

}  // namespace osprey::vision
