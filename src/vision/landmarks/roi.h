// Rotated regions of interest, as MediaPipe's landmark graphs build them
// (DetectionsToRects, AlignmentPointsRects, HandLandmarksToRect,
// RectTransformation), the affine warp that cuts one out of an image into a
// model input (ImageToTensor), and the way back to image pixels
// (LandmarkProjection). Everything here is in image pixels, which for the
// square ROIs the graphs use gives the same result as MediaPipe's normalised
// arithmetic.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "vision/detection.h"
#include "vision/image.h"

namespace osprey::vision {

// A rectangle of width x height centred on (cx, cy), turned by `rotation`
// radians (positive turns the ROI's x axis towards the image's +y, i.e.
// clockwise on screen).
struct RotatedRect {
  float cx = 0, cy = 0;
  float width = 0, height = 0;
  float rotation = 0;

  // (u, v) in [0,1] over the ROI (0,0 its top-left corner before rotation) to
  // image pixels; the inverse of to_roi.
  Point to_image(Point uv) const;
  Point to_roi(Point pixel) const;
  // Axis-aligned box around the four corners.
  Box bounds() const;
};

// Angle to the range [-pi, pi).
float normalize_radians(float angle);

// MediaPipe's rotation from two keypoints: the angle that turns the ROI so
// the vector start -> end points at `target_radians` inside it (0 = along
// the ROI's +x, pi/2 = towards its top).
float rotation_from(Point start, Point end, float target_radians);

// Enlarges / moves a rect like RectTransformationCalculator: the shift is a
// fraction of the rect's size along its own (rotated) axes, square_long makes
// it a square of the longer side (square_short of the shorter), then each
// side is scaled.
struct RectTransform {
  float scale_x = 1, scale_y = 1;
  float shift_x = 0, shift_y = 0;
  bool square_long = false;
  bool square_short = false;
};
RotatedRect transform_rect(const RotatedRect& rect, const RectTransform& transform);

// DetectionsToRects: the box as is, turned by `rotation`.
RotatedRect rect_from_box(const Box& box, float rotation);
// AlignmentPointsRects: a square centred on `center` whose side is twice the
// distance to `scale_point`, turned by `rotation`.
RotatedRect rect_from_alignment_points(Point center, Point scale_point, float rotation);
// HandLandmarksToRect: the smallest rect around `points` whose axes are turned
// by `rotation`.
RotatedRect rect_around_points(std::span<const Point> points, float rotation);

// MediaPipe's detector input (ImageToTensor with keep_aspect_ratio): the whole
// image as a ROI grown on one axis to the input's aspect ratio, so that
// warping it gives the letterboxed input. The padding is fractional (528 rows
// into 192 leave 25.6 rows above and below) and each input pixel is one
// bilinear sample, not an area average: a detector fed a resized-and-padded
// picture instead finds its subject a few pixels away (docs/landmarks.md).
RotatedRect letterbox_rect(int image_width, int image_height, int input_width, int input_height);

// How pixels outside the image are filled when the ROI reaches past an edge.
enum class BorderMode { kZero, kReplicate };
BorderMode parse_border_mode(const std::string& name);

// The ROI resampled (bilinear) into a width x height RGB image, the rect's
// corners onto the output's corners like ImageToTensorCalculator: the centre
// of output pixel (i, j) shows rect.to_image({(i + 0.5) / width,
// (j + 0.5) / height}), in coordinates where image pixel (x, y) covers
// [x, x+1) x [y, y+1) (as detections and landmarks are).
// kZero: a sample point outside the picture is black, one inside it reads
// clamped neighbours (MediaPipe's GPU converter); kReplicate clamps always.
Image warp_roi(const Image& image, const RotatedRect& rect, int width, int height, BorderMode border);
// The same samples written as floats to `out` ([height, width, 3]), each
// channel mapped from [0, 255] to [lo, hi] without rounding to bytes first,
// as MediaPipe's GPU converter renders into a float texture.
void warp_roi_to_floats(const Image& image, const RotatedRect& rect, int width, int height, BorderMode border,
                        float lo, float hi, float* out);

}  // namespace osprey::vision
