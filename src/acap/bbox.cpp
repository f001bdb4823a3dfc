// libbbox off-camera: the geometry an app draws is kept per bbox_t and
// written as one JSON line per commit (include/bbox.h says where), so tests
// and developers see the overlay a camera would draw.
#include <bbox.h>

#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

struct bbox {
  struct Shape {
    const char* kind;
    std::vector<std::pair<float, float>> points;
    bbox_color_t color;
    const char* style;
    const char* thickness;
  };

  std::vector<bbox_channel_t> channels;
  bool view = false;
  bool frame_normalized = false;
  bool video_output = true;
  bbox_color_t color{0xffffffffu};
  const char* style = "outline";
  const char* thickness = "medium";
  std::vector<Shape> shapes;
  std::vector<std::pair<float, float>> path;  // since the last bbox_move_to
};

namespace {

// Every entry point validates its bbox_t and reports failure the C way.
bool fail_invalid() {
  errno = EINVAL;
  return false;
}

bool finite(std::initializer_list<float> values) {
  for (float v : values)
    if (!std::isfinite(v)) return false;
  return true;
}

bool add_shape(bbox_t* self, const char* kind, std::vector<std::pair<float, float>> points) {
  self->shapes.push_back({kind, std::move(points), self->color, self->style, self->thickness});
  return true;
}

nlohmann::json color_json(bbox_color_t c) {
  const uint32_t v = c.packed_rgba;
  return {(v >> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff};
}

// The output sink: OSPREY_BBOX_OUTPUT names a file to append to, "-" or
// "stderr" standard error; unset or empty writes nothing.
bool write_line(const std::string& line) {
  const char* target = std::getenv("OSPREY_BBOX_OUTPUT");
  if (target == nullptr || *target == '\0') return true;
  const bool to_stderr = std::strcmp(target, "-") == 0 || std::strcmp(target, "stderr") == 0;
  FILE* f = to_stderr ? stderr : std::fopen(target, "a");
  if (f == nullptr) return false;  // errno from fopen
  const bool ok = std::fputs(line.c_str(), f) >= 0 && std::fputc('\n', f) != EOF;
  if (!to_stderr) return std::fclose(f) == 0 && ok;
  std::fflush(f);
  return ok;
}

bbox_t* make(std::vector<bbox_channel_t> channels, bool view) {
  auto* self = new (std::nothrow) bbox;
  if (self == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  self->channels = std::move(channels);
  self->view = view;
  return self;
}

}  // namespace

extern "C" {

bbox_t* bbox_new(size_t n_channels, ...) {
  // A camera has a handful of channels; a huge count is a caller's bug.
  if (n_channels == 0 || n_channels > 64) {
    errno = EINVAL;
    return nullptr;
  }
  std::vector<bbox_channel_t> channels(n_channels);
  va_list args;
  va_start(args, n_channels);
  for (auto& c : channels) c = va_arg(args, bbox_channel_t);
  va_end(args);
  return make(std::move(channels), false);
}

bbox_t* bbox_view_new(bbox_channel_t view) {
  return make({view}, true);
}

bool bbox_destroy(bbox_t* self) {
  if (self == nullptr) return fail_invalid();
  delete self;
  return true;
}

bool bbox_coordinates_scene_normalized(bbox_t* self) {
  if (self == nullptr) return fail_invalid();
  self->frame_normalized = false;
  return true;
}

bool bbox_coordinates_frame_normalized(bbox_t* self) {
  if (self == nullptr) return fail_invalid();
  self->frame_normalized = true;
  return true;
}

bool bbox_video_output(bbox_t* self, bool enabled) {
  if (self == nullptr) return fail_invalid();
  self->video_output = enabled;
  return true;
}

bbox_color_t bbox_color_from_rgba(uint8_t r, uint8_t g, uint8_t b, uint8_t a) {
  return {uint32_t{r} << 24 | uint32_t{g} << 16 | uint32_t{b} << 8 | a};
}

bbox_color_t bbox_color_from_rgb(uint8_t r, uint8_t g, uint8_t b) {
  return bbox_color_from_rgba(r, g, b, 255);
}

bool bbox_clear(bbox_t* self) {
  if (self == nullptr) return fail_invalid();
  self->shapes.clear();
  self->path.clear();
  return true;
}

bool bbox_color(bbox_t* self, bbox_color_t color) {
  if (self == nullptr) return fail_invalid();
  self->color = color;
  return true;
}

#define OSPREY_BBOX_SETTER(fn, field, value)    \
  bool fn(bbox_t* self) {                       \
    if (self == nullptr) return fail_invalid(); \
    self->field = value;                        \
    return true;                                \
  }
OSPREY_BBOX_SETTER(bbox_style_outline, style, "outline")
OSPREY_BBOX_SETTER(bbox_style_corners, style, "corners")
OSPREY_BBOX_SETTER(bbox_thickness_thin, thickness, "thin")
OSPREY_BBOX_SETTER(bbox_thickness_medium, thickness, "medium")
OSPREY_BBOX_SETTER(bbox_thickness_thick, thickness, "thick")
#undef OSPREY_BBOX_SETTER

bool bbox_rectangle(bbox_t* self, float x1, float y1, float x2, float y2) {
  if (self == nullptr || !finite({x1, y1, x2, y2})) return fail_invalid();
  return add_shape(self, "rectangle", {{x1, y1}, {x2, y2}});
}

bool bbox_line(bbox_t* self, float x1, float y1, float x2, float y2) {
  if (self == nullptr || !finite({x1, y1, x2, y2})) return fail_invalid();
  return add_shape(self, "line", {{x1, y1}, {x2, y2}});
}

bool bbox_quad(bbox_t* self, float x1, float y1, float x2, float y2, float x3, float y3, float x4, float y4) {
  if (self == nullptr || !finite({x1, y1, x2, y2, x3, y3, x4, y4})) return fail_invalid();
  return add_shape(self, "quad", {{x1, y1}, {x2, y2}, {x3, y3}, {x4, y4}});
}

bool bbox_move_to(bbox_t* self, float x, float y) {
  if (self == nullptr || !finite({x, y})) return fail_invalid();
  self->path.assign(1, {x, y});
  return true;
}

bool bbox_line_to(bbox_t* self, float x, float y) {
  // A path starts with bbox_move_to.
  if (self == nullptr || self->path.empty() || !finite({x, y})) return fail_invalid();
  self->path.emplace_back(x, y);
  return true;
}

bool bbox_draw_path(bbox_t* self) {
  if (self == nullptr || self->path.size() < 2) return fail_invalid();
  add_shape(self, "path", std::move(self->path));
  self->path.clear();
  return true;
}

bool bbox_commit(bbox_t* self, int64_t when_us) {
  if (self == nullptr || when_us < 0) return fail_invalid();
  nlohmann::json shapes = nlohmann::json::array();
  for (const auto& s : self->shapes) {
    nlohmann::json points = nlohmann::json::array();
    for (const auto& [x, y] : s.points) points.push_back({x, y});
    shapes.push_back({{"kind", s.kind},
                      {"points", std::move(points)},
                      {"color", color_json(s.color)},
                      {"style", s.style},
                      {"thickness", s.thickness}});
  }
  const nlohmann::json line = {
      {"bbox", "commit"},
      {"when_us", when_us},
      {self->view ? "view" : "channels",
       self->view ? nlohmann::json(self->channels[0]) : nlohmann::json(self->channels)},
      {"coordinates", self->frame_normalized ? "frame" : "scene"},
      {"video_output", self->video_output},
      {"shapes", std::move(shapes)}};
  return write_line(line.dump());
}

}  // extern "C"
