#include "vision/landmarks/landmark_output.h"

#include <algorithm>
#include <cmath>

#include "vision/draw.h"

namespace osprey::vision {
namespace {

// As `osprey detect`: pixels to two decimals (landmarks are compared to a
// fraction of the ROI), scores to four. Dividing gives the double nearest the
// decimal, which prints short.
double round_to(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale + 0.0;  // + 0.0 turns -0.0 into 0.0
}

nlohmann::ordered_json subject_json(const LandmarkSubject& s, size_t reported) {
  using nlohmann::ordered_json;
  const LandmarkResult& r = s.result;
  const size_t n = std::min(reported, r.landmarks.size());
  ordered_json points = ordered_json::array();
  for (size_t i = 0; i < n; ++i) {
    const Point3& p = r.landmarks[i];
    points.push_back({round_to(p.x, 2), round_to(p.y, 2), round_to(p.z, 2)});
  }
  ordered_json j = {
      {"score", round_to(r.presence, 4)},
      {"box",
       {round_to(s.box.xmin, 1), round_to(s.box.ymin, 1), round_to(s.box.xmax, 1), round_to(s.box.ymax, 1)}},
      {"landmarks", points}};
  if (!r.handedness.empty()) {
    j["handedness"] = r.handedness;
    j["handedness_score"] = round_to(r.handedness_score, 4);
  }
  auto first_n = [n](const std::vector<float>& values) {
    ordered_json a = ordered_json::array();
    for (size_t i = 0; i < std::min(n, values.size()); ++i) a.push_back(round_to(values[i], 4));
    return a;
  };
  if (!r.visibility.empty()) j["visibility"] = first_n(r.visibility);
  if (!r.landmark_presence.empty()) j["presence"] = first_n(r.landmark_presence);
  j["roi"] = {{"center", {round_to(s.roi.cx, 2), round_to(s.roi.cy, 2)}},
              {"size", {round_to(s.roi.width, 2), round_to(s.roi.height, 2)}},
              {"rotation", round_to(s.roi.rotation, 4)},
              {"tracked", s.tracked}};
  return j;
}

// Tints the image where the ROI's mask says "person" (nearest mask cell).
void tint_mask(Image& out, const LandmarkSubject& s, Color color) {
  const LandmarkResult& r = s.result;
  if (r.mask.empty() || r.mask_width <= 0 || r.mask_height <= 0) return;
  const Box b = s.roi.bounds();
  const int x0 = std::max(0, static_cast<int>(std::floor(std::max(b.xmin, 0.0f))));
  const int y0 = std::max(0, static_cast<int>(std::floor(std::max(b.ymin, 0.0f))));
  const int x1 =
      std::min(out.width, static_cast<int>(std::ceil(std::min(b.xmax, static_cast<float>(out.width)))));
  const int y1 =
      std::min(out.height, static_cast<int>(std::ceil(std::min(b.ymax, static_cast<float>(out.height)))));
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      const Point uv = s.roi.to_roi({static_cast<float>(x) + 0.5f, static_cast<float>(y) + 0.5f});
      if (uv.x < 0 || uv.y < 0 || uv.x >= 1 || uv.y >= 1) continue;
      const auto mx = static_cast<size_t>(uv.x * static_cast<float>(r.mask_width));
      const auto my = static_cast<size_t>(uv.y * static_cast<float>(r.mask_height));
      const float a = 0.5f * r.mask[my * static_cast<size_t>(r.mask_width) + mx];
      uint8_t* p = out.at(x, y);
      p[0] = static_cast<uint8_t>(std::lround((1 - a) * p[0] + a * color.r));
      p[1] = static_cast<uint8_t>(std::lround((1 - a) * p[1] + a * color.g));
      p[2] = static_cast<uint8_t>(std::lround((1 - a) * p[2] + a * color.b));
    }
  }
}

}  // namespace

nlohmann::ordered_json landmarks_to_json(std::string_view pipeline, int image_width, int image_height,
                                         const LandmarkFrame& frame, int reported_landmarks) {
  using nlohmann::ordered_json;
  ordered_json subjects = ordered_json::array();
  for (const LandmarkSubject& s : frame.subjects)
    subjects.push_back(subject_json(s, static_cast<size_t>(std::max(0, reported_landmarks))));
  return {{"pipeline", pipeline},
          {"image", {{"width", image_width}, {"height", image_height}}},
          {"subjects", subjects},
          {"timing_ms",
           {{"detector", round_to(frame.timing.detector_ms, 3)},
            {"landmarks", round_to(frame.timing.landmarks_ms, 3)},
            {"total", round_to(frame.timing.total_ms, 3)}}}};
}

Image annotate_landmarks(const Image& image, const LandmarkFrame& frame, const LandmarkParams& params) {
  Image out = to_rgb(image);
  const int side = std::max(out.width, out.height);
  const float line = static_cast<float>(std::max(2, side / 300));
  const int text_scale = std::max(2, side / 256);
  int index = 0;
  for (const LandmarkSubject& s : frame.subjects) {
    const Color color = class_color(index++);
    tint_mask(out, s, color);
    // The ROI, rotated.
    const Point corners[4] = {s.roi.to_image({0, 0}), s.roi.to_image({1, 0}), s.roi.to_image({1, 1}),
                              s.roi.to_image({0, 1})};
    for (int c = 0; c < 4; ++c) draw_line(out, corners[c], corners[(c + 1) % 4], color, line);
    const auto& points = s.result.landmarks;
    const auto reported = std::min(points.size(), static_cast<size_t>(params.num_reported));
    for (const auto& [a, b] : params.connections) {
      if (static_cast<size_t>(std::max(a, b)) >= reported) continue;
      const Point3& p = points[static_cast<size_t>(a)];
      const Point3& q = points[static_cast<size_t>(b)];
      draw_line(out, {p.x, p.y}, {q.x, q.y}, {255, 255, 255}, line);
    }
    // Many points (the face mesh) get small dots.
    const float dot = reported > 100 ? line * 0.5f : static_cast<float>(std::max(2, side / 250));
    for (size_t i = 0; i < reported; ++i) fill_circle(out, points[i].x, points[i].y, dot, color);
    if (!s.result.handedness.empty()) {
      const int x = static_cast<int>(std::clamp(corners[0].x, 0.0f, static_cast<float>(out.width - 1)));
      const int y = static_cast<int>(std::clamp(s.box.ymin, 0.0f, static_cast<float>(out.height - 1)));
      draw_text(out, x, y, s.result.handedness, color, text_scale);
    }
  }
  return out;
}

}  // namespace osprey::vision
