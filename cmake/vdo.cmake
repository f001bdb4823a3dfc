# libvdostream: the VDO C API (include/vdo-*.h) served off-camera from a video
# file, an image folder or a V4L2 camera (docs/service.md, "VDO video
# source"), its tests (ctest label "unit") and its install rules (component
# "vdostream": headers, libvdostream.so, lib/pkgconfig/vdostream.pc).

pkg_check_modules(VDO_GLIB REQUIRED QUIET IMPORTED_TARGET glib-2.0 gobject-2.0)
pkg_check_modules(VDO_LIBAV REQUIRED QUIET IMPORTED_TARGET libavformat libavcodec libavutil libswscale libavdevice)

set(OSPREY_VDO_VERSION 1.0.0)
file(GLOB VDO_SOURCES CONFIGURE_DEPENDS src/vdo/*.cpp)
add_library(vdostream SHARED ${VDO_SOURCES})
target_include_directories(vdostream PUBLIC ${CMAKE_SOURCE_DIR}/include PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(vdostream PUBLIC PkgConfig::VDO_GLIB PRIVATE osprey_media_linked PkgConfig::VDO_LIBAV ${YUV_LIBRARY})
set_target_properties(vdostream PROPERTIES VERSION ${OSPREY_VDO_VERSION} SOVERSION 1
  LINK_DEPENDS ${CMAKE_SOURCE_DIR}/src/vdo/vdostream.map)
target_link_options(vdostream PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/src/vdo/vdostream.map)
if(NOT OSPREY_SANITIZE AND NOT OSPREY_FUZZ)
  target_link_options(vdostream PRIVATE -Wl,--no-undefined)
endif()

# The .pc finds its prefix from its own place (${pcfiledir}), so it is right
# for whatever prefix `cmake --install --prefix` is given.
configure_file(${CMAKE_SOURCE_DIR}/src/vdo/vdostream.pc.in ${CMAKE_BINARY_DIR}/pkgconfig/vdostream.pc @ONLY)
file(GLOB VDO_HEADERS ${CMAKE_SOURCE_DIR}/include/vdo-*.h)
install(TARGETS vdostream LIBRARY DESTINATION lib COMPONENT vdostream)
install(FILES ${VDO_HEADERS} DESTINATION include COMPONENT vdostream)
install(FILES ${CMAKE_BINARY_DIR}/pkgconfig/vdostream.pc DESTINATION lib/pkgconfig COMPONENT vdostream)

# ---- Tests (no daemon): streams from vtest.avi checked against libav's own
# decode, malformed settings and sources, buffer pool exhaustion.
include(GoogleTest)
file(GLOB VDO_TEST_SOURCES CONFIGURE_DEPENDS tests/vdo/*_test.cpp)
add_executable(vdo_tests ${VDO_TEST_SOURCES})
target_link_libraries(vdo_tests PRIVATE vdostream PkgConfig::VDO_LIBAV GTest::gtest_main)
osprey_glue_code(vdo_tests)
gtest_discover_tests(vdo_tests DISCOVERY_TIMEOUT 120 PROPERTIES LABELS unit TIMEOUT 120)
osprey_sanitizer_checked(vdo_tests)

# An app built the way the Axis examples are: `pkg-config vdostream` against
# an install into a temporary prefix, with their warning flags.
# (Not in sanitizer builds: the app is built with plain cc, without the runtime.)
if(NOT OSPREY_SANITIZE AND NOT OSPREY_FUZZ)
  add_test(NAME vdo_pkg_config
    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/vdo/pkg_config_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR}/tests/vdo/app.c)
  set_tests_properties(vdo_pkg_config PROPERTIES LABELS unit TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
