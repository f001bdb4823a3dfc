// Annotating pictures: thick boxes, keypoint dots and labelled scores.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vision/detection.h"
#include "vision/image.h"

namespace osprey::vision {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
};

// A distinct, saturated colour per class id.
Color class_color(int class_id);

// All drawing clips to the image; the image must be RGB or RGBA.
void fill_rect(Image& image, int x0, int y0, int x1, int y1, Color color);
void draw_box(Image& image, const Box& box, Color color, int thickness);
void fill_circle(Image& image, float cx, float cy, float radius, Color color);
// A straight stroke of `width` pixels from a to b (round ends).
void draw_line(Image& image, Point a, Point b, Color color, float width);
// Text with the 5x7 font magnified `scale` times; (x, y) is the top left.
void draw_text(Image& image, int x, int y, std::string_view text, Color color, int scale);
int text_width(std::string_view text, int scale);
int text_height(int scale);

struct LabelledDetection {
  Detection detection;  // in image pixels
  std::string label;
};

// Boxes, keypoints and "LABEL 0.97" tags sized for the picture, on an RGB copy.
Image annotate_detections(const Image& image, const std::vector<LabelledDetection>& detections);

}  // namespace osprey::vision
