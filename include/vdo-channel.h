/* osprey libvdostream: VdoChannel, the video source as a camera channel.
 * osprey has one channel, id 1, fed by OSPREY_VDO_SOURCE (docs/service.md). */
#ifndef OSPREY_VDO_CHANNEL_H
#define OSPREY_VDO_CHANNEL_H

#include "vdo-map.h"
#include "vdo-types.h"

#include <glib-object.h>

G_BEGIN_DECLS

#define VDO_TYPE_CHANNEL (vdo_channel_get_type())
G_DECLARE_FINAL_TYPE(VdoChannel, vdo_channel, VDO, CHANNEL, GObject)

VdoChannel* vdo_channel_get(guint nbr, GError** error);
/* Looks a channel up by "id" or "input" (both 1 here). */
VdoChannel* vdo_channel_get_ex(VdoMap* desc, GError** error);
guint vdo_channel_get_id(VdoChannel* self);
/* id, input, width, height (the source's), rotation, aspect_ratio, framerate. */
VdoMap* vdo_channel_get_info(VdoChannel* self, GError** error);
/* Resolutions a stream of filter's "format" can have; "select" = "minmax"
 * gives two (smallest, largest), else a list. A format osprey does not serve
 * gives an empty set. Free the result with g_free(). */
VdoResolutionSet* vdo_channel_get_resolutions(VdoChannel* self, const VdoMap* filter, GError** error);

G_END_DECLS

#endif
