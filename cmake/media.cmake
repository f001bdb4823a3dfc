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

# The video commands end to end on vtest.avi (node) and their one-line errors.
set(MEDIA_VTEST $ENV{HOME}/.cache/osprey/media/vtest.avi)
if(DEFINED ENV{OSPREY_CACHE})
  set(MEDIA_VTEST $ENV{OSPREY_CACHE}/media/vtest.avi)
endif()
find_program(NODE node)
if(NODE)
  add_test(NAME cli_video COMMAND ${NODE} ${CMAKE_SOURCE_DIR}/tests/cli/video.mjs $<TARGET_FILE:osprey> ${MEDIA_VTEST}
                                  ${CMAKE_BINARY_DIR}/cli-video)
  set_tests_properties(cli_video PROPERTIES LABELS unit TIMEOUT 600 SKIP_RETURN_CODE 77)
endif()
add_test(NAME cli_video_errors COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/video_errors.sh $<TARGET_FILE:osprey> ${MEDIA_VTEST})
set_tests_properties(cli_video_errors PROPERTIES LABELS "unit;malformed" TIMEOUT 300 SKIP_RETURN_CODE 77)
