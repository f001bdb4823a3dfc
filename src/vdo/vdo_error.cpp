// The VDO_ERROR domain and which of its errors are an orderly end.
#include "vdo-error.h"

extern "C" {

GQuark vdo_error_quark(void) {
  return g_quark_from_static_string("vdo-error-quark");
}

gboolean vdo_error_is_expected(GError** error) {
  if (!error || !*error || (*error)->domain != VDO_ERROR) return FALSE;
  return (*error)->code == VDO_ERROR_CLOSED || (*error)->code == VDO_ERROR_INTERFACE_DOWN;
}

}  // extern "C"
