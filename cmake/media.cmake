# osprey_media: video in and out with libavformat/libavcodec (src/media/):
# VideoReader (file, image folder, V4L2 camera) serves `osprey` and
# libvdostream alike, VideoWriter encodes annotated video. Position
# independent because the shared libvdostream links it.

pkg_check_modules(MEDIA_LIBAV REQUIRED QUIET IMPORTED_TARGET libavformat libavcodec libavutil libswscale libavdevice)

file(GLOB MEDIA_SOURCES CONFIGURE_DEPENDS src/media/*.cpp)
add_library(osprey_media STATIC ${MEDIA_SOURCES})
target_include_directories(osprey_media PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(osprey_media PUBLIC PkgConfig::MEDIA_LIBAV ${YUV_LIBRARY})
set_target_properties(osprey_media PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_link_libraries(osprey PRIVATE osprey_media)

# Reader and writer on generated and damaged files (labels unit, malformed).
file(GLOB MEDIA_TEST_SOURCES CONFIGURE_DEPENDS tests/media/*_test.cpp)
add_executable(media_tests ${MEDIA_TEST_SOURCES})
target_link_libraries(media_tests PRIVATE osprey_media GTest::gtest_main)
gtest_discover_tests(media_tests DISCOVERY_TIMEOUT 120
                     PROPERTIES LABELS "unit;malformed" TIMEOUT 120)
