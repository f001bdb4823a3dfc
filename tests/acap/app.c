/* An app built as Axis's examples are: reads its parameters, draws a box. */
#include <axsdk/axparameter.h>
#include <bbox.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  const char* app = argc > 1 ? argv[1] : "detector";
  GError* error = NULL;
  AXParameter* params = ax_parameter_new(app, &error);
  if (params == NULL) {
    fprintf(stderr, "axparameter: %s\n", error->message);
    g_error_free(error);
    return 1;
  }
  gchar* value = NULL;
  if (!ax_parameter_get(params, "ConfThresholdPercent", &value, &error)) {
    fprintf(stderr, "axparameter: %s\n", error->message);
    g_error_free(error);
    ax_parameter_free(params);
    return 1;
  }
  printf("ConfThresholdPercent %s\n", value);
  g_free(value);
  ax_parameter_free(params);

  bbox_t* bbox = bbox_view_new(1u);
  if (bbox == NULL) return 1;
  bbox_clear(bbox);
  bbox_coordinates_frame_normalized(bbox);
  bbox_color(bbox, bbox_color_from_rgb(0xff, 0x00, 0x00));
  bbox_thickness_thin(bbox);
  bbox_style_outline(bbox);
  if (!bbox_rectangle(bbox, 0.25f, 0.25f, 0.5f, 0.75f) || !bbox_commit(bbox, 0u)) return 1;
  bbox_destroy(bbox);
  return 0;
}
