// VdoMap: typed values, defaults, conversions and copies.
#include <gtest/gtest.h>

#include "vdo-map.h"

namespace {

TEST(VdoMapTest, StoresEachTypeAndReturnsDefaultsOtherwise) {
  g_autoptr(VdoMap) map = vdo_map_new();
  EXPECT_TRUE(vdo_map_empty(map));
  vdo_map_set_uint32(map, "width", 640);
  vdo_map_set_int32(map, "offset", -3);
  vdo_map_set_double(map, "framerate", 12.5);
  vdo_map_set_boolean(map, "socket.blocking", FALSE);
  vdo_map_set_string(map, "image.fit", "scale");
  vdo_map_set_pair32u(map, "resolution", VdoPair32u{.w = 320, .h = 240});
  EXPECT_EQ(vdo_map_size(map), 6u);
  EXPECT_EQ(vdo_map_get_uint32(map, "width", 0), 640u);
  EXPECT_EQ(vdo_map_get_int32(map, "offset", 0), -3);
  EXPECT_DOUBLE_EQ(vdo_map_get_double(map, "framerate", 0), 12.5);
  EXPECT_FALSE(vdo_map_get_boolean(map, "socket.blocking", TRUE));
  gsize size = 0;
  EXPECT_STREQ(vdo_map_get_string(map, "image.fit", &size, "x"), "scale");
  EXPECT_EQ(size, 5u);
  const VdoPair32u r = vdo_map_get_pair32u(map, "resolution", VdoPair32u{.w = 0, .h = 0});
  EXPECT_EQ(r.w, 320u);
  EXPECT_EQ(r.h, 240u);

  // Missing names and other types give the default; integers convert when they fit.
  EXPECT_EQ(vdo_map_get_uint32(map, "missing", 7), 7u);
  EXPECT_EQ(vdo_map_get_uint32(map, "image.fit", 9), 9u);
  EXPECT_EQ(vdo_map_get_uint32(map, "offset", 9), 9u);  // negative does not fit
  EXPECT_EQ(vdo_map_get_int64(map, "width", 0), 640);
  EXPECT_DOUBLE_EQ(vdo_map_get_double(map, "width", 0), 640.0);
  EXPECT_STREQ(vdo_map_get_string(map, "width", nullptr, "def"), "def");
  EXPECT_EQ(vdo_map_get_pair32u(map, "width", VdoPair32u{.w = 1, .h = 2}).h, 2u);
  vdo_map_set_uint64(map, "big", G_MAXUINT64);
  EXPECT_EQ(vdo_map_get_uint32(map, "big", 5), 5u);

  // Replacing and removing.
  vdo_map_set_string(map, "width", "wide");
  EXPECT_EQ(vdo_map_get_uint32(map, "width", 1), 1u);
  vdo_map_remove(map, "width");
  EXPECT_FALSE(vdo_map_contains(map, "width"));
}

TEST(VdoMapTest, MergeCopiesEntriesIndependently) {
  g_autoptr(VdoMap) a = vdo_map_new();
  g_autoptr(VdoMap) b = vdo_map_new();
  vdo_map_set_uint32(a, "format", 3);
  vdo_map_set_uint32(b, "format", 8);
  vdo_map_set_string(b, "select", "minmax");
  vdo_map_merge(a, b);
  g_clear_object(&b);
  EXPECT_EQ(vdo_map_get_uint32(a, "format", 0), 8u);
  EXPECT_STREQ(vdo_map_get_string(a, "select", nullptr, ""), "minmax");
  vdo_map_clear(a);
  EXPECT_TRUE(vdo_map_empty(a));
}

}  // namespace
