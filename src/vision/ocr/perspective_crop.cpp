// Perspective crop: solve the 8-unknown homography, then sample backwards.
#include "vision/ocr/perspective_crop.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace osprey::vision::ocr {
namespace {

float distance(Point a, Point b) {
  return std::hypot(a.x - b.x, a.y - b.y);
}

}  // namespace

std::optional<Homography> homography(const Quad& from, const Quad& to) {
  // h8 = 1; each correspondence gives two linear equations in h0..h7.
  double m[8][9] = {};
  for (size_t i = 0; i < 4; ++i) {
    const double x = from[i].x, y = from[i].y, u = to[i].x, v = to[i].y;
    double* r0 = m[2 * i];
    double* r1 = m[2 * i + 1];
    const double row0[9] = {x, y, 1, 0, 0, 0, -u * x, -u * y, u};
    const double row1[9] = {0, 0, 0, x, y, 1, -v * x, -v * y, v};
    std::copy(row0, row0 + 9, r0);
    std::copy(row1, row1 + 9, r1);
  }
  for (int col = 0; col < 8; ++col) {
    int pivot = col;
    for (int r = col + 1; r < 8; ++r) {
      if (std::abs(m[r][col]) > std::abs(m[pivot][col])) pivot = r;
    }
    if (std::abs(m[pivot][col]) < 1e-9) return std::nullopt;
    std::swap(m[col], m[pivot]);
    for (int r = 0; r < 8; ++r) {
      if (r == col) continue;
      const double f = m[r][col] / m[col][col];
      for (int c = col; c < 9; ++c) m[r][c] -= f * m[col][c];
    }
  }
  Homography h{};
  for (int i = 0; i < 8; ++i) h[static_cast<size_t>(i)] = m[i][8] / m[i][i];
  h[8] = 1;
  return h;
}

Point apply(const Homography& h, Point p) {
  const double w = h[6] * p.x + h[7] * p.y + h[8];
  return {static_cast<float>((h[0] * p.x + h[1] * p.y + h[2]) / w),
          static_cast<float>((h[3] * p.x + h[4] * p.y + h[5]) / w)};
}

Image crop_quad(const Image& image, const Quad& quad) {
  const float width_f = std::max(distance(quad[0], quad[1]), distance(quad[2], quad[3]));
  const float height_f = std::max(distance(quad[0], quad[3]), distance(quad[1], quad[2]));
  if (!(width_f >= 1 && height_f >= 1) || image.empty()) return {};
  if (static_cast<double>(width_f) * height_f > static_cast<double>(kMaxImagePixels) ||
      std::max(width_f, height_f) > static_cast<float>(kMaxImageSide)) {
    return {};
  }
  const int width = static_cast<int>(width_f), height = static_cast<int>(height_f);
  const Quad target = {Point{0, 0}, Point{static_cast<float>(width), 0},
                       Point{static_cast<float>(width), static_cast<float>(height)},
                       Point{0, static_cast<float>(height)}};
  const std::optional<Homography> back = homography(target, quad);
  if (!back) return {};
  Image out(width, height, image.channels);
  const auto channels = static_cast<size_t>(image.channels);
  for (int y = 0; y < height; ++y) {
    uint8_t* row = out.row(y);
    for (int x = 0; x < width; ++x) {
      const Point s = apply(*back, {static_cast<float>(x), static_cast<float>(y)});
      // Replicated border: clamp the sample position into the picture.
      const float sx = std::isfinite(s.x) ? std::clamp(s.x, 0.0f, static_cast<float>(image.width - 1)) : 0.0f;
      const float sy =
          std::isfinite(s.y) ? std::clamp(s.y, 0.0f, static_cast<float>(image.height - 1)) : 0.0f;
      const int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
      const int x1 = std::min(x0 + 1, image.width - 1), y1 = std::min(y0 + 1, image.height - 1);
      const float fx = sx - static_cast<float>(x0), fy = sy - static_cast<float>(y0);
      const uint8_t* p00 = image.at(x0, y0);
      const uint8_t* p01 = image.at(x1, y0);
      const uint8_t* p10 = image.at(x0, y1);
      const uint8_t* p11 = image.at(x1, y1);
      for (size_t c = 0; c < channels; ++c) {
        const float top = static_cast<float>(p00[c]) + fx * static_cast<float>(p01[c] - p00[c]);
        const float bottom = static_cast<float>(p10[c]) + fx * static_cast<float>(p11[c] - p10[c]);
        row[static_cast<size_t>(x) * channels + c] =
            static_cast<uint8_t>(std::clamp(std::lround(top + fy * (bottom - top)), 0L, 255L));
      }
    }
  }
  return out;
}

Image rotate_quarter_ccw(const Image& image) {
  Image out(image.height, image.width, image.channels);
  const auto channels = static_cast<size_t>(image.channels);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      std::copy_n(image.at(image.width - 1 - y, x), channels, out.at(x, y));
    }
  }
  return out;
}

Image rotate_half(const Image& image) {
  Image out(image.width, image.height, image.channels);
  const auto channels = static_cast<size_t>(image.channels);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      std::copy_n(image.at(image.width - 1 - x, image.height - 1 - y), channels, out.at(x, y));
    }
  }
  return out;
}

}  // namespace osprey::vision::ocr
