// Turning a decoded image into a model's input tensor, and the coordinate
// mapping between the two (letterbox or stretch).
#pragma once

#include <string>

#include "graph/tensor.h"
#include "vision/image.h"

namespace osprey::vision {

struct Point {
  float x = 0, y = 0;
};

// How the image is fitted into the model's input rectangle.
enum class ResizeMode {
  kStretch,    // scale each axis independently to fill the input
  kLetterbox,  // keep the aspect ratio, centre, pad with black (MediaPipe's
               // keep_aspect_ratio + BORDER_ZERO)
};
ResizeMode parse_resize_mode(const std::string& name);

// Where the image lands inside the input: input = image * scale + pad, in
// input pixels.
struct InputTransform {
  int image_width = 0, image_height = 0;
  int input_width = 0, input_height = 0;
  float scale_x = 1, scale_y = 1;
  int pad_x = 0;          // left padding in input pixels
  int pad_y = 0;          // top padding in input pixels
  int content_width = 0;  // size of the scaled image inside the input
  int content_height = 0;

  // Normalised input coordinates ([0,1] over the model input) to image pixels.
  Point to_image(Point normalized) const;
  // Image pixels to normalised input coordinates.
  Point to_input(Point pixel) const;
};

InputTransform make_input_transform(int image_width, int image_height, int input_width, int input_height,
                                    ResizeMode mode);

// Bilinear/box resampling through libyuv, any channel count.
Image resize_image(const Image& image, int width, int height);
// The sub-rectangle [x, x+width) x [y, y+height), clipped to nothing: it
// must lie inside the image.
Image crop_image(const Image& image, int x, int y, int width, int height);
// The RGB picture the model sees: image scaled and placed as the transform says.
Image render_input(const Image& image, const InputTransform& transform);

// Float inputs get lo + pixel / 255 * (hi - lo); quantized inputs get that
// real value quantized with the tensor's scale and zero point.
struct Normalization {
  float lo = 0.0f;
  float hi = 1.0f;
};

// Writes an RGB image into a [1, H, W, 3] float32, uint8 or int8 tensor.
void fill_input_tensor(const Image& rgb, const Normalization& norm, Tensor& tensor);

}  // namespace osprey::vision
