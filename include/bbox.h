/* osprey's off-camera bbox: the overlay API of Axis cameras (bbox.h).
 *
 * On a camera these calls draw rectangles, lines and quads on the video.
 * Here each bbox_commit() writes the committed geometry as one JSON line to
 * the file named by OSPREY_BBOX_OUTPUT ("-" or "stderr" for standard error;
 * unset: nothing is written), so an app's overlays can be read and tested
 * off-camera. Functions return false and set errno on bad arguments.
 * See docs/service.md, "Camera libraries off-camera". */
#ifndef OSPREY_BBOX_H
#define OSPREY_BBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bbox bbox_t;
typedef uint32_t bbox_channel_t;

/* An opaque packed RGBA colour, passed by value. */
typedef struct {
  uint32_t packed_rgba;
} bbox_color_t;

/* Geometry in scene coordinates over n_channels video channels (the
 * channel numbers follow as bbox_channel_t arguments). */
bbox_t* bbox_new(size_t n_channels, ...);
/* Geometry in the coordinates of one view (a video channel). */
bbox_t* bbox_view_new(bbox_channel_t view);
bool bbox_destroy(bbox_t* self);

bool bbox_coordinates_scene_normalized(bbox_t* self);
bool bbox_coordinates_frame_normalized(bbox_t* self);
bool bbox_video_output(bbox_t* self, bool enabled);

bbox_color_t bbox_color_from_rgb(uint8_t r, uint8_t g, uint8_t b);
bbox_color_t bbox_color_from_rgba(uint8_t r, uint8_t g, uint8_t b, uint8_t a);

bool bbox_clear(bbox_t* self);
bool bbox_color(bbox_t* self, bbox_color_t color);
bool bbox_style_outline(bbox_t* self);
bool bbox_style_corners(bbox_t* self);
bool bbox_thickness_thin(bbox_t* self);
bool bbox_thickness_medium(bbox_t* self);
bool bbox_thickness_thick(bbox_t* self);

/* Coordinates are normalised to [0, 1] in the current coordinate space. */
bool bbox_rectangle(bbox_t* self, float x1, float y1, float x2, float y2);
bool bbox_line(bbox_t* self, float x1, float y1, float x2, float y2);
bool bbox_quad(bbox_t* self, float x1, float y1, float x2, float y2, float x3, float y3, float x4, float y4);
bool bbox_move_to(bbox_t* self, float x, float y);
bool bbox_line_to(bbox_t* self, float x, float y);
bool bbox_draw_path(bbox_t* self);

/* Shows all geometry drawn since the last bbox_clear(); when_us is the
 * frame timestamp in microseconds it belongs to (0: now). */
bool bbox_commit(bbox_t* self, int64_t when_us);

#ifdef __cplusplus
}
#endif

#endif
