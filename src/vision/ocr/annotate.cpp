// Drawing OCR results.
#include "vision/ocr/annotate.h"

#include <algorithm>
#include <cmath>

#include "vision/draw.h"

namespace osprey::vision::ocr {
namespace {

void draw_line(Image& image, Point a, Point b, Color color, int thickness) {
  const float length = std::hypot(b.x - a.x, b.y - a.y);
  const int steps = std::max(1, static_cast<int>(std::ceil(length)));
  for (int i = 0; i <= steps; ++i) {
    const float t = static_cast<float>(i) / static_cast<float>(steps);
    const int x = static_cast<int>(std::lround(a.x + t * (b.x - a.x))) - thickness / 2;
    const int y = static_cast<int>(std::lround(a.y + t * (b.y - a.y))) - thickness / 2;
    fill_rect(image, x, y, x + thickness, y + thickness, color);
  }
}

void draw_quad(Image& image, const Quad& quad, float shift_x, Color color, int thickness) {
  for (size_t i = 0; i < 4; ++i) {
    const Point a{quad[i].x + shift_x, quad[i].y};
    const Point b{quad[(i + 1) % 4].x + shift_x, quad[(i + 1) % 4].y};
    draw_line(image, a, b, color, thickness);
  }
}

}  // namespace

std::string printable_ascii(std::string_view utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size(); ++i) {
    const auto byte = static_cast<unsigned char>(utf8[i]);
    if (byte >= 0x20 && byte < 0x7f) {
      out += static_cast<char>(byte);
    } else if ((byte & 0xc0) != 0x80) {
      out += '?';  // the first byte of a character (continuation bytes are skipped)
    }
  }
  return out;
}

Image annotate_text(const Image& image, const std::vector<TextLine>& lines) {
  const Image rgb = to_rgb(image);
  Image out(2 * rgb.width, rgb.height, 3);
  for (int y = 0; y < rgb.height; ++y) {
    std::copy_n(rgb.row(y), rgb.stride(), out.row(y));
    std::fill_n(out.row(y) + rgb.stride(), rgb.stride(), uint8_t{255});
  }
  const int thickness = std::max(1, std::max(rgb.width, rgb.height) / 400);
  const auto shift = static_cast<float>(rgb.width);
  for (size_t i = 0; i < lines.size(); ++i) {
    const TextLine& line = lines[i];
    const Color color = class_color(static_cast<int>(i));
    draw_quad(out, line.polygon, 0, color, thickness);
    draw_quad(out, line.polygon, shift, color, thickness);
    // Text as tall as the box allows, shrunk until it fits its width.
    const std::string text = printable_ascii(line.text);
    const float box_height =
        std::hypot(line.polygon[3].x - line.polygon[0].x, line.polygon[3].y - line.polygon[0].y);
    const float box_width =
        std::hypot(line.polygon[1].x - line.polygon[0].x, line.polygon[1].y - line.polygon[0].y);
    int scale = std::max(1, static_cast<int>(box_height * 0.8f) / text_height(1));
    while (scale > 1 && static_cast<float>(text_width(text, scale)) > box_width) --scale;
    const int x = static_cast<int>(std::lround(line.polygon[0].x + shift)) + thickness + 1;
    const int y =
        static_cast<int>(std::lround((line.polygon[0].y + line.polygon[3].y) / 2)) - text_height(scale) / 2;
    draw_text(out, x, y, text, {0, 0, 0}, scale);
  }
  return out;
}

}  // namespace osprey::vision::ocr
