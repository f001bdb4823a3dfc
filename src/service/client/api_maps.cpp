// C API: larodMap, the parameters of model loads and jobs.
#include <cstring>

#include "service/client/handles.h"

using namespace osprey::service;
using namespace osprey::service::client;

namespace {

bool map_key_ok(const larodMap* map, const char* key, larodError** error) {
  if (!map) return invalid(error, "map is NULL");
  if (!key || !*key) return invalid(error, "key is NULL or empty");
  if (std::strlen(key) > kMaxString) return invalid(error, "key is too long");
  return true;
}

bool map_set(larodMap* map, const char* key, MapValue v, larodError** error) {
  if (!map_key_ok(map, key, error)) return false;
  auto it = map->map.find(key);
  if (it == map->map.end() && map->map.size() >= kMaxMapEntries) {
    set_error(error, EINVAL, "the map is full (" + std::to_string(kMaxMapEntries) + " keys)");
    return false;
  }
  map->map[key] = std::move(v);
  return true;
}

const MapValue* map_get(const larodMap* map, const char* key, MapValue::Type type, larodError** error) {
  if (!map_key_ok(map, key, error)) return nullptr;
  auto it = map->map.find(key);
  if (it == map->map.end()) {
    set_error(error, EINVAL, std::string("the map has no key '") + key + "'");
    return nullptr;
  }
  if (it->second.type != type) {
    static const char* const names[] = {"", "a string", "an int", "an int pair", "an int quad"};
    set_error(error, EINVAL,
              std::string("key '") + key + "' holds " + names[it->second.type] + ", not " + names[type]);
    return nullptr;
  }
  return &it->second;
}

MapValue ints(MapValue::Type type, int64_t a, int64_t b = 0, int64_t c = 0, int64_t d = 0) {
  MapValue v;
  v.type = type;
  v.v[0] = a;
  v.v[1] = b;
  v.v[2] = c;
  v.v[3] = d;
  return v;
}

}  // namespace

extern "C" {

larodMap* larodCreateMap(larodError** error) {
  return guarded(error, [&] { return new larodMap(); });
}

void larodDestroyMap(larodMap** map) {
  guarded_void([&] {
    if (!map || !*map) return;
    delete *map;
    *map = nullptr;
  });
}

bool larodMapSetStr(larodMap* map, const char* key, const char* value, larodError** error) {
  return guarded(error, [&] {
    if (!value) return invalid(error, "value is NULL");
    if (std::strlen(value) > kMaxString) return invalid(error, "value is too long");
    MapValue v;
    v.type = MapValue::kStr;
    v.s = value;
    return map_set(map, key, std::move(v), error);
  });
}

bool larodMapSetInt(larodMap* map, const char* key, const int64_t value, larodError** error) {
  return guarded(error, [&] { return map_set(map, key, ints(MapValue::kInt, value), error); });
}

bool larodMapSetIntArr2(larodMap* map, const char* key, const int64_t value0, const int64_t value1,
                        larodError** error) {
  return guarded(error, [&] { return map_set(map, key, ints(MapValue::kArr2, value0, value1), error); });
}

bool larodMapSetIntArr4(larodMap* map, const char* key, const int64_t value0, const int64_t value1,
                        const int64_t value2, const int64_t value3, larodError** error) {
  return guarded(
      error, [&] { return map_set(map, key, ints(MapValue::kArr4, value0, value1, value2, value3), error); });
}

const char* larodMapGetStr(larodMap* map, const char* key, larodError** error) {
  return guarded(error, [&]() -> const char* {
    const MapValue* v = map_get(map, key, MapValue::kStr, error);
    return v ? v->s.c_str() : nullptr;
  });
}

bool larodMapGetInt(larodMap* map, const char* key, int64_t* value, larodError** error) {
  return guarded(error, [&] {
    if (!value) return invalid(error, "value is NULL");
    const MapValue* v = map_get(map, key, MapValue::kInt, error);
    if (!v) return false;
    *value = v->v[0];
    return true;
  });
}

const int64_t* larodMapGetIntArr2(larodMap* map, const char* key, larodError** error) {
  return guarded(error, [&]() -> const int64_t* {
    const MapValue* v = map_get(map, key, MapValue::kArr2, error);
    return v ? v->v : nullptr;
  });
}

const int64_t* larodMapGetIntArr4(larodMap* map, const char* key, larodError** error) {
  return guarded(error, [&]() -> const int64_t* {
    const MapValue* v = map_get(map, key, MapValue::kArr4, error);
    return v ? v->v : nullptr;
  });
}

}  // extern "C"
