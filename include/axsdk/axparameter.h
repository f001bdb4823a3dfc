/* osprey's off-camera AXParameter: the application parameter API of Axis
 * cameras (axsdk/axparameter.h).
 *
 * On a camera the parameters live in the device's parameter service. Here
 * they live in a GKeyFile, $OSPREY_AXPARAMETER_DIR/APP_NAME.conf (default
 * directory: $XDG_CONFIG_HOME/osprey/axparameter), seeded with the defaults
 * of the app's manifest.json "paramConfig" ($OSPREY_ACAP_MANIFEST, else
 * ./manifest.json). Callbacks fire from the GLib main context when a value
 * changes through ax_parameter_set(). See docs/service.md, "Camera libraries
 * off-camera". */
#ifndef OSPREY_AXPARAMETER_H
#define OSPREY_AXPARAMETER_H

#include <glib.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AX_PARAMETER_ERROR (ax_parameter_error_quark())
GQuark ax_parameter_error_quark(void);

typedef enum {
  AX_PARAMETER_INVALID_ARG_ERROR = 0,
  AX_PARAMETER_FILE_FD_ERROR = 1,
  AX_PARAMETER_FILE_LOCK_ERROR = 2,
  AX_PARAMETER_FILE_OPEN_ERROR = 3,
  AX_PARAMETER_FILE_FORMAT_ERROR = 4,
  AX_PARAMETER_FILE_CREATE_ERROR = 5,
  AX_PARAMETER_FILE_WRITE_ERROR = 6,
  AX_PARAMETER_FILE_LINK_ERROR = 7,
  AX_PARAMETER_PARAM_LIST_ERROR = 8,
  AX_PARAMETER_PARAM_GET_ERROR = 9,
  AX_PARAMETER_PARAM_PATH_ERROR = 10,
  AX_PARAMETER_PARAM_SYNC_ERROR = 11,
  AX_PARAMETER_PARAM_EXIST_ERROR = 12,
  AX_PARAMETER_PARAM_ADDED_ERROR = 13,
  AX_PARAMETER_PARAM_READ_GROUP_ERROR = 14,
  AX_PARAMETER_PARAM_SET_ERROR = 15,
  AX_PARAMETER_DBUS_SETUP_ERROR = 16,
  AX_PARAMETER_FILE_UNLINK_ERROR = 17,
  AX_PARAMETER_FILE_PATH_ERROR = 18,
  AX_PARAMETER_FILE_SYNC_ERROR = 19,
  AX_PARAMETER_FILE_RENAME_ERROR = 20,
} AXParameterErrorCode;

typedef struct _AXParameter AXParameter;
typedef void(AXParameterCallback)(const gchar* name, const gchar* value, gpointer data);

AXParameter* ax_parameter_new(const gchar* app_name, GError** error);
void ax_parameter_free(AXParameter* parameter);

/* Adds NAME with INITIAL_VALUE (fails with PARAM_ADDED if it exists). TYPE is
 * the camera's type string, e.g. "int:min=0;max=100"; int bounds and
 * enum:a|b lists are enforced by ax_parameter_set(). */
gboolean ax_parameter_add(AXParameter* parameter, const gchar* name, const gchar* initial_value,
                          const gchar* type, GError** error);
gboolean ax_parameter_remove(AXParameter* parameter, const gchar* name, GError** error);
gboolean ax_parameter_set(AXParameter* parameter, const gchar* name, const gchar* value, gboolean do_sync,
                          GError** error);
/* *value is a new string; free it with g_free(). */
gboolean ax_parameter_get(AXParameter* parameter, const gchar* name, gchar** value, GError** error);
/* A new list of new strings (the names); free with g_list_free_full(list, g_free). */
GList* ax_parameter_list(AXParameter* parameter, GError** error);

gboolean ax_parameter_register_callback(AXParameter* parameter, const gchar* name,
                                        AXParameterCallback* callback, gpointer userdata, GError** error);
void ax_parameter_unregister_callback(AXParameter* parameter, const gchar* name);

#ifdef __cplusplus
}
#endif

#endif
