// Cutting a text region out of the picture as an upright rectangle: a
// perspective warp of its quadrilateral (PaddleOCR's get_rotate_crop_image),
// plus the quarter and half turns the recogniser needs.
#pragma once

#include <array>
#include <optional>

#include "vision/image.h"
#include "vision/ocr/min_area_rect.h"

namespace osprey::vision::ocr {

// Row-major 3x3 projective map: (x, y) -> (h0 x + h1 y + h2, h3 x + h4 y + h5) / (h6 x + h7 y + h8).
using Homography = std::array<double, 9>;

// The map taking from[i] to to[i]; nullopt when the points are degenerate
// (three on a line).
std::optional<Homography> homography(const Quad& from, const Quad& to);
Point apply(const Homography& h, Point p);

// The quad's content as a width x height image, where width and height are
// the longer of the quad's opposite sides (truncated, at least 1). Bicubic
// sampling as PaddleOCR's warpPerspective (INTER_CUBIC); outside the picture
// the nearest edge pixel is used.
// A quad that would need more than kMaxImagePixels, or a degenerate one,
// gives an empty image.
Image crop_quad(const Image& image, const Quad& quad);

// np.rot90: a quarter turn counter-clockwise.
Image rotate_quarter_ccw(const Image& image);
Image rotate_half(const Image& image);

}  // namespace osprey::vision::ocr
