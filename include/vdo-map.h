/* osprey libvdostream: VdoMap, a GObject dictionary of named values
 * (stream settings, stream and channel info). Release with g_object_unref(). */
#ifndef OSPREY_VDO_MAP_H
#define OSPREY_VDO_MAP_H

#include "vdo-types.h"

#include <glib-object.h>

G_BEGIN_DECLS

#define VDO_TYPE_MAP (vdo_map_get_type())
G_DECLARE_FINAL_TYPE(VdoMap, vdo_map, VDO, MAP, GObject)

VdoMap* vdo_map_new(void);

gboolean vdo_map_empty(const VdoMap* self);
gsize vdo_map_size(const VdoMap* self);
gboolean vdo_map_contains(const VdoMap* self, const gchar* name);
void vdo_map_remove(VdoMap* self, const gchar* name);
void vdo_map_clear(VdoMap* self);
/* Copies every entry of map into self (replacing entries of the same name). */
void vdo_map_merge(VdoMap* self, const VdoMap* map);
/* Prints the entries, one per line, on stdout. */
void vdo_map_dump(const VdoMap* self);

/* A getter returns def when the entry is missing or holds another type
 * (integers convert between widths when the value fits). */
gboolean vdo_map_get_boolean(const VdoMap* self, const gchar* name, gboolean def);
gint32 vdo_map_get_int32(const VdoMap* self, const gchar* name, gint32 def);
guint32 vdo_map_get_uint32(const VdoMap* self, const gchar* name, guint32 def);
gint64 vdo_map_get_int64(const VdoMap* self, const gchar* name, gint64 def);
guint64 vdo_map_get_uint64(const VdoMap* self, const gchar* name, guint64 def);
gdouble vdo_map_get_double(const VdoMap* self, const gchar* name, gdouble def);
/* The returned string belongs to the map; size (optional) gets its length. */
const gchar* vdo_map_get_string(const VdoMap* self, const gchar* name, gsize* size, const gchar* def);
VdoPair32u vdo_map_get_pair32u(const VdoMap* self, const gchar* name, VdoPair32u def);

void vdo_map_set_boolean(VdoMap* self, const gchar* name, gboolean value);
void vdo_map_set_int32(VdoMap* self, const gchar* name, gint32 value);
void vdo_map_set_uint32(VdoMap* self, const gchar* name, guint32 value);
void vdo_map_set_int64(VdoMap* self, const gchar* name, gint64 value);
void vdo_map_set_uint64(VdoMap* self, const gchar* name, guint64 value);
void vdo_map_set_double(VdoMap* self, const gchar* name, gdouble value);
void vdo_map_set_string(VdoMap* self, const gchar* name, const gchar* value);
void vdo_map_set_pair32u(VdoMap* self, const gchar* name, VdoPair32u value);

G_END_DECLS

#endif
