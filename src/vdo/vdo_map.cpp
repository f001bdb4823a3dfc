// VdoMap: named GVariant values, as VDO uses for settings and info.
#include "vdo-map.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

struct _VdoMap {
  GObject parent;
  GHashTable* table;  // gchar* -> GVariant* (floating refs sunk)
};

extern "C" {
G_DEFINE_TYPE(VdoMap, vdo_map, G_TYPE_OBJECT)
}

static void vdo_map_finalize(GObject* object) {
  g_hash_table_destroy(VDO_MAP(object)->table);
  G_OBJECT_CLASS(vdo_map_parent_class)->finalize(object);
}

static void vdo_map_class_init(VdoMapClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = vdo_map_finalize;
}

static void vdo_map_init(VdoMap* self) {
  self->table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
}

namespace {

bool is_map(const VdoMap* map) {
  return VDO_IS_MAP(const_cast<VdoMap*>(map));
}

GVariant* lookup(const VdoMap* self, const gchar* name) {
  if (!is_map(self) || !name) return nullptr;
  return static_cast<GVariant*>(g_hash_table_lookup(self->table, name));
}

void store(VdoMap* self, const gchar* name, GVariant* value) {
  g_return_if_fail(VDO_IS_MAP(self) && name);
  g_hash_table_replace(self->table, g_strdup(name), g_variant_ref_sink(value));
}

// Any integer (or boolean) entry, widened; false for other types.
bool as_integer(GVariant* v, gint64& s, guint64& u, bool& is_unsigned) {
  if (!v) return false;
  is_unsigned = true;
  switch (g_variant_classify(v)) {
    case G_VARIANT_CLASS_BYTE: u = g_variant_get_byte(v); return true;
    case G_VARIANT_CLASS_UINT16: u = g_variant_get_uint16(v); return true;
    case G_VARIANT_CLASS_UINT32: u = g_variant_get_uint32(v); return true;
    case G_VARIANT_CLASS_UINT64: u = g_variant_get_uint64(v); return true;
    case G_VARIANT_CLASS_BOOLEAN: u = g_variant_get_boolean(v) ? 1 : 0; return true;
    default: break;
  }
  is_unsigned = false;
  switch (g_variant_classify(v)) {
    case G_VARIANT_CLASS_INT16: s = g_variant_get_int16(v); return true;
    case G_VARIANT_CLASS_INT32: s = g_variant_get_int32(v); return true;
    case G_VARIANT_CLASS_INT64: s = g_variant_get_int64(v); return true;
    default: return false;
  }
}

template <typename T>
T get_integer(const VdoMap* self, const gchar* name, T def) {
  gint64 s = 0;
  guint64 u = 0;
  bool is_unsigned = false;
  if (!as_integer(lookup(self, name), s, u, is_unsigned)) return def;
  if (is_unsigned) return u <= guint64(std::numeric_limits<T>::max()) ? T(u) : def;
  if (s < 0 && !std::numeric_limits<T>::is_signed) return def;
  if (s >= 0 && guint64(s) > guint64(std::numeric_limits<T>::max())) return def;
  if (s < 0 && s < gint64(std::numeric_limits<T>::min())) return def;
  return T(s);
}

}  // namespace

extern "C" {

VdoMap* vdo_map_new(void) {
  return VDO_MAP(g_object_new(VDO_TYPE_MAP, nullptr));
}

gboolean vdo_map_empty(const VdoMap* self) {
  return vdo_map_size(self) == 0;
}

gsize vdo_map_size(const VdoMap* self) {
  g_return_val_if_fail(is_map(self), 0);
  return g_hash_table_size(self->table);
}

gboolean vdo_map_contains(const VdoMap* self, const gchar* name) {
  return lookup(self, name) != nullptr;
}

void vdo_map_remove(VdoMap* self, const gchar* name) {
  g_return_if_fail(VDO_IS_MAP(self) && name);
  g_hash_table_remove(self->table, name);
}

void vdo_map_clear(VdoMap* self) {
  g_return_if_fail(VDO_IS_MAP(self));
  g_hash_table_remove_all(self->table);
}

void vdo_map_merge(VdoMap* self, const VdoMap* map) {
  g_return_if_fail(VDO_IS_MAP(self) && is_map(map));
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, map->table);
  while (g_hash_table_iter_next(&it, &key, &value))
    store(self, static_cast<const gchar*>(key), static_cast<GVariant*>(value));
}

void vdo_map_dump(const VdoMap* self) {
  g_return_if_fail(is_map(self));
  GList* keys = g_list_sort(g_hash_table_get_keys(self->table), (GCompareFunc)strcmp);
  for (GList* k = keys; k; k = k->next) {
    gchar* text = g_variant_print(lookup(self, static_cast<const gchar*>(k->data)), FALSE);
    printf("%s = %s\n", static_cast<const gchar*>(k->data), text);
    g_free(text);
  }
  fflush(stdout);
  g_list_free(keys);
}

gboolean vdo_map_get_boolean(const VdoMap* self, const gchar* name, gboolean def) {
  GVariant* v = lookup(self, name);
  if (v && g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN)) return g_variant_get_boolean(v);
  return get_integer<guint32>(self, name, def ? 1 : 0) != 0;
}
gint32 vdo_map_get_int32(const VdoMap* self, const gchar* name, gint32 def) {
  return get_integer<gint32>(self, name, def);
}
guint32 vdo_map_get_uint32(const VdoMap* self, const gchar* name, guint32 def) {
  return get_integer<guint32>(self, name, def);
}
gint64 vdo_map_get_int64(const VdoMap* self, const gchar* name, gint64 def) {
  return get_integer<gint64>(self, name, def);
}
guint64 vdo_map_get_uint64(const VdoMap* self, const gchar* name, guint64 def) {
  return get_integer<guint64>(self, name, def);
}

gdouble vdo_map_get_double(const VdoMap* self, const gchar* name, gdouble def) {
  GVariant* v = lookup(self, name);
  if (v && g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE)) return g_variant_get_double(v);
  gint64 s = 0;
  guint64 u = 0;
  bool is_unsigned = false;
  if (!as_integer(v, s, u, is_unsigned)) return def;
  return is_unsigned ? gdouble(u) : gdouble(s);
}

const gchar* vdo_map_get_string(const VdoMap* self, const gchar* name, gsize* size, const gchar* def) {
  GVariant* v = lookup(self, name);
  if (!v || !g_variant_is_of_type(v, G_VARIANT_TYPE_STRING)) {
    if (size) *size = def ? strlen(def) : 0;
    return def;
  }
  return g_variant_get_string(v, size);
}

VdoPair32u vdo_map_get_pair32u(const VdoMap* self, const gchar* name, VdoPair32u def) {
  GVariant* v = lookup(self, name);
  if (!v || !g_variant_is_of_type(v, G_VARIANT_TYPE("(uu)"))) return def;
  VdoPair32u pair;
  g_variant_get(v, "(uu)", &pair.w, &pair.h);
  return pair;
}

void vdo_map_set_boolean(VdoMap* self, const gchar* name, gboolean value) {
  store(self, name, g_variant_new_boolean(value));
}
void vdo_map_set_int32(VdoMap* self, const gchar* name, gint32 value) {
  store(self, name, g_variant_new_int32(value));
}
void vdo_map_set_uint32(VdoMap* self, const gchar* name, guint32 value) {
  store(self, name, g_variant_new_uint32(value));
}
void vdo_map_set_int64(VdoMap* self, const gchar* name, gint64 value) {
  store(self, name, g_variant_new_int64(value));
}
void vdo_map_set_uint64(VdoMap* self, const gchar* name, guint64 value) {
  store(self, name, g_variant_new_uint64(value));
}
void vdo_map_set_double(VdoMap* self, const gchar* name, gdouble value) {
  store(self, name, g_variant_new_double(value));
}
void vdo_map_set_string(VdoMap* self, const gchar* name, const gchar* value) {
  g_return_if_fail(value);
  store(self, name, g_variant_new_string(value));
}
void vdo_map_set_pair32u(VdoMap* self, const gchar* name, VdoPair32u value) {
  store(self, name, g_variant_new("(uu)", value.w, value.h));
}

}  // extern "C"
