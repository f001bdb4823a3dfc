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

// Cubic convolution weights for the taps at -1, 0, 1, 2 around a sample
// `t` past a pixel, with OpenCV's A = -0.75 (its INTER_CUBIC).
std::array<float, 4> cubic_weights(float t) {
  constexpr float a = -0.75f;
  const auto near = [](float d) { return ((a + 2) * d - (a + 3)) * d * d + 1; };       // |d| <= 1
  const auto far = [](float d) { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a; };  // 1 < |d| < 2
  return {far(t + 1), near(t), near(1 - t), far(2 - t)};
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
      if (!std::isfinite(s.x) || !std::isfinite(s.y)) {
        std::copy_n(image.at(0, 0), channels, row + static_cast<size_t>(x) * channels);
        continue;
      }
      // Far outside, every tap is the edge pixel anyway; keep the ints small.
      const float sx = std::clamp(s.x, -2.0f, static_cast<float>(image.width + 1));
      const float sy = std::clamp(s.y, -2.0f, static_cast<float>(image.height + 1));
      const int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
      const std::array<float, 4> wx = cubic_weights(sx - static_cast<float>(x0));
      const std::array<float, 4> wy = cubic_weights(sy - static_cast<float>(y0));
      for (size_t c = 0; c < channels; ++c) {
        float sum = 0;
        for (int j = 0; j < 4; ++j) {
          // Replicated border: taps outside the picture take the edge pixel.
          const int ty = std::clamp(y0 - 1 + j, 0, image.height - 1);
          float across = 0;
          for (int i = 0; i < 4; ++i) {
            const int tx = std::clamp(x0 - 1 + i, 0, image.width - 1);
            across += wx[static_cast<size_t>(i)] * static_cast<float>(image.at(tx, ty)[c]);
          }
          sum += wy[static_cast<size_t>(j)] * across;
        }
        row[static_cast<size_t>(x) * channels + c] =
            static_cast<uint8_t>(std::clamp(std::lround(sum), 0L, 255L));
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
