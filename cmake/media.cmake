# Video in and out with libavformat/libavcodec (src/media/): VideoReader
# (file, image folder, V4L2 camera) serves `osprey` and libvdostream alike,
# VideoWriter encodes annotated video. libav brings some 200 shared
# libraries (~45 MiB of resident memory) into any process that links it, so
# the libav code is a module, libosprey_media_av.so, that `osprey` loads
# when it opens a video (src/media/av_factories.h). Position independent
# because the shared libvdostream links it.

pkg_check_modules(MEDIA_LIBAV REQUIRED QUIET IMPORTED_TARGET libavformat libavcodec libavutil libswscale libavdevice)

# The libav code.
add_library(osprey_media_av_code OBJECT src/media/video_reader.cpp src/media/video_writer.cpp)
target_include_directories(osprey_media_av_code PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(osprey_media_av_code PUBLIC PkgConfig::MEDIA_LIBAV)
set_target_properties(osprey_media_av_code PROPERTIES POSITION_INDEPENDENT_CODE ON)

# The module, beside the programs in the build tree, in lib/osprey/ installed.
add_library(osprey_media_av MODULE src/media/av_exports.cpp)
target_link_libraries(osprey_media_av PRIVATE osprey_media_av_code)
set_target_properties(osprey_media_av PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
install(TARGETS osprey_media_av LIBRARY DESTINATION lib/osprey)

# osprey_media: opens videos through the module, links no libav.
add_library(osprey_media STATIC src/media/rgb.cpp src/media/av_module.cpp)
target_include_directories(osprey_media PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(osprey_media PUBLIC ${YUV_LIBRARY} ${CMAKE_DL_LIBS})
set_target_properties(osprey_media PROPERTIES POSITION_INDEPENDENT_CODE ON)
add_dependencies(osprey_media osprey_media_av)
target_link_libraries(osprey PRIVATE osprey_media)

# osprey_media_linked: the same with the libav code linked in (libvdostream,
# which camera applications load, and the media tests).
add_library(osprey_media_linked STATIC src/media/rgb.cpp src/media/av_direct.cpp)
target_link_libraries(osprey_media_linked PUBLIC osprey_media_av_code ${YUV_LIBRARY})
set_target_properties(osprey_media_linked PROPERTIES POSITION_INDEPENDENT_CODE ON)

# Reader and writer on generated and damaged files (label unit: the sanitizer build runs them too).
file(GLOB MEDIA_TEST_SOURCES CONFIGURE_DEPENDS tests/media/*_test.cpp)
add_executable(media_tests ${MEDIA_TEST_SOURCES})
target_link_libraries(media_tests PRIVATE osprey_media_linked GTest::gtest_main)
osprey_glue_code(media_tests)
gtest_discover_tests(media_tests DISCOVERY_TIMEOUT 120
                     PROPERTIES LABELS unit TIMEOUT 120)
osprey_sanitizer_checked(media_tests)

# The video commands end to end on vtest.avi (node) and their one-line errors.
set(MEDIA_VTEST $ENV{HOME}/.cache/osprey/media/vtest.avi)
if(DEFINED ENV{OSPREY_CACHE})
  set(MEDIA_VTEST $ENV{OSPREY_CACHE}/media/vtest.avi)
endif()
if(NODE_EXECUTABLE)
  add_test(NAME cli_video COMMAND ${OSPREY_NODE} ${CMAKE_SOURCE_DIR}/tests/cli/video.mjs $<TARGET_FILE:osprey> ${MEDIA_VTEST}
                                  ${CMAKE_BINARY_DIR}/cli-video)
  set_tests_properties(cli_video PROPERTIES LABELS unit TIMEOUT 600 SKIP_RETURN_CODE 77)
endif()
add_test(NAME cli_video_errors COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/video_errors.sh $<TARGET_FILE:osprey> ${MEDIA_VTEST})
set_tests_properties(cli_video_errors PROPERTIES LABELS "unit;malformed" TIMEOUT 300 SKIP_RETURN_CODE 77)
