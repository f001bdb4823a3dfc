/* osprey libvdostream: errors are GErrors in the VDO_ERROR domain. */
#ifndef OSPREY_VDO_ERROR_H
#define OSPREY_VDO_ERROR_H

#include <glib.h>

G_BEGIN_DECLS

#define VDO_ERROR (vdo_error_quark())

/* Codes in the documented order (osprey numbers them from 1). */
enum {
  VDO_ERROR_NOT_FOUND = 1,
  VDO_ERROR_EXISTS,
  VDO_ERROR_INVALID_ARGUMENT,
  VDO_ERROR_PERMISSION_DENIED,
  VDO_ERROR_NOT_SUPPORTED,
  VDO_ERROR_CLOSED,
  VDO_ERROR_BUSY,
  VDO_ERROR_IO,
  VDO_ERROR_HAL,
  VDO_ERROR_DBUS,
  VDO_ERROR_OOM,
  VDO_ERROR_IDLE,
  VDO_ERROR_NO_DATA,
  VDO_ERROR_NO_BUFFER_SPACE,
  VDO_ERROR_BUFFER_FAILURE,
  VDO_ERROR_INTERFACE_DOWN,
  VDO_ERROR_FAILED,
  VDO_ERROR_FATAL,
  VDO_ERROR_NOT_CONTROLLED,
  VDO_ERROR_NO_EVENT,
  VDO_ERROR_NO_VIDEO,
};

GQuark vdo_error_quark(void);

/* TRUE for errors that end a stream in an orderly way rather than signal a
 * fault: VDO_ERROR_CLOSED (osprey: the video ended and looping is off) and
 * VDO_ERROR_INTERFACE_DOWN. */
gboolean vdo_error_is_expected(GError** error);

G_END_DECLS

#endif
