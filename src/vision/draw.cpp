// Drawing primitives for annotated output pictures.
#include "vision/draw.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "fmt/format.h"
#include "vision/font.h"

namespace osprey::vision {
namespace {

void put(Image& image, int x, int y, Color c) {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  uint8_t* p = image.at(x, y);
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

void check_drawable(const Image& image) {
  OSPREY_CHECK(image.channels == 3 || image.channels == 4, "draw: need an RGB or RGBA image, got {} channels",
               image.channels);
}

}  // namespace

Color class_color(int class_id) {
  static constexpr Color kPalette[] = {{0, 255, 0},   {255, 64, 64}, {64, 160, 255}, {255, 200, 0},
                                       {255, 0, 255}, {0, 255, 255}, {255, 128, 0},  {160, 96, 255}};
  const auto n = static_cast<int>(std::size(kPalette));
  return kPalette[((class_id % n) + n) % n];
}

void fill_rect(Image& image, int x0, int y0, int x1, int y1, Color color) {
  check_drawable(image);
  x0 = std::max(x0, 0);
  y0 = std::max(y0, 0);
  x1 = std::min(x1, image.width);
  y1 = std::min(y1, image.height);
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) put(image, x, y, color);
  }
}

void draw_box(Image& image, const Box& box, Color color, int thickness) {
  // Clamp first so absurd coordinates cannot overflow the int conversion.
  const auto limit = [](float v, int size) {
    return static_cast<int>(std::lround(std::clamp(v, -1.0f, static_cast<float>(size) + 1.0f)));
  };
  const int x0 = limit(box.xmin, image.width);
  const int y0 = limit(box.ymin, image.height);
  const int x1 = limit(box.xmax, image.width);
  const int y1 = limit(box.ymax, image.height);
  // The stroke grows inwards so the box edge stays where the object ends.
  fill_rect(image, x0, y0, x1, y0 + thickness, color);
  fill_rect(image, x0, y1 - thickness, x1, y1, color);
  fill_rect(image, x0, y0, x0 + thickness, y1, color);
  fill_rect(image, x1 - thickness, y0, x1, y1, color);
}

void fill_circle(Image& image, float cx, float cy, float radius, Color color) {
  check_drawable(image);
  if (!std::isfinite(cx) || !std::isfinite(cy)) return;
  const int x0 = static_cast<int>(std::floor(std::max(cx - radius, 0.0f)));
  const int x1 = static_cast<int>(std::ceil(std::min(cx + radius, static_cast<float>(image.width))));
  const int y0 = static_cast<int>(std::floor(std::max(cy - radius, 0.0f)));
  const int y1 = static_cast<int>(std::ceil(std::min(cy + radius, static_cast<float>(image.height))));
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      const float dx = static_cast<float>(x) + 0.5f - cx;
      const float dy = static_cast<float>(y) + 0.5f - cy;
      if (dx * dx + dy * dy <= radius * radius) put(image, x, y, color);
    }
  }
}

void draw_line(Image& image, Point a, Point b, Color color, float width) {
  check_drawable(image);
  if (!std::isfinite(a.x) || !std::isfinite(a.y) || !std::isfinite(b.x) || !std::isfinite(b.y)) return;
  // Dots every half radius: simple, and the lines drawn here are short.
  const float radius = std::max(0.5f, width / 2);
  const float length = std::hypot(b.x - a.x, b.y - a.y);
  const int steps = static_cast<int>(std::min(length / (radius / 2), 100000.0f)) + 1;
  for (int i = 0; i <= steps; ++i) {
    const float t = static_cast<float>(i) / static_cast<float>(steps);
    fill_circle(image, a.x + t * (b.x - a.x), a.y + t * (b.y - a.y), radius, color);
  }
}

int text_width(std::string_view text, int scale) {
  return text.empty() ? 0 : static_cast<int>(text.size()) * (kGlyphWidth + 1) * scale - scale;
}

int text_height(int scale) {
  return kGlyphHeight * scale;
}

void draw_text(Image& image, int x, int y, std::string_view text, Color color, int scale) {
  check_drawable(image);
  for (char c : text) {
    const auto& rows = glyph(c);
    for (int gy = 0; gy < kGlyphHeight; ++gy) {
      for (int gx = 0; gx < kGlyphWidth; ++gx) {
        if ((rows[static_cast<size_t>(gy)] >> (kGlyphWidth - 1 - gx)) & 1) {
          fill_rect(image, x + gx * scale, y + gy * scale, x + (gx + 1) * scale, y + (gy + 1) * scale, color);
        }
      }
    }
    x += (kGlyphWidth + 1) * scale;
  }
}

Image annotate_detections(const Image& image, const std::vector<LabelledDetection>& detections) {
  Image out = to_rgb(image);
  // Strokes and text scale with the picture so they stay visible.
  const int side = std::max(out.width, out.height);
  const int thickness = std::max(3, side / 170);
  const int text_scale = std::max(2, side / 256);
  const float dot_radius = static_cast<float>(std::max(2, side / 150));
  const int margin = text_scale;
  for (const LabelledDetection& item : detections) {
    const Detection& d = item.detection;
    const Color color = class_color(d.class_id);
    draw_box(out, d.box, color, thickness);

    // Tag above the box, or inside it when the box touches the top edge.
    const std::string tag = fmt::format("{} {:.2f}", item.label, d.score);
    const int tag_w = text_width(tag, text_scale) + 2 * margin;
    const int tag_h = text_height(text_scale) + 2 * margin;
    const int x = static_cast<int>(std::lround(std::clamp(d.box.xmin, 0.0f, static_cast<float>(out.width))));
    int y =
        static_cast<int>(std::lround(std::clamp(d.box.ymin, 0.0f, static_cast<float>(out.height)))) - tag_h;
    if (y < 0)
      y = static_cast<int>(std::lround(std::clamp(d.box.ymin, 0.0f, static_cast<float>(out.height))));
    fill_rect(out, x, y, x + tag_w, y + tag_h, color);
    draw_text(out, x + margin, y + margin, tag, {0, 0, 0}, text_scale);
  }
  // Keypoints last so no tag hides them.
  for (const LabelledDetection& item : detections) {
    for (const Point& p : item.detection.keypoints) fill_circle(out, p.x, p.y, dot_radius, {255, 0, 0});
  }
  return out;
}

}  // namespace osprey::vision
