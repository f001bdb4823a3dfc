# The camera libraries besides Larod and VDO that Axis's example apps link:
# libbbox (the video overlay API) and libaxparameter (application parameters),
# served off-camera (docs/service.md, "Camera libraries off-camera"), their
# tests (label "unit") and install rules (component "acap").

pkg_check_modules(ACAP_GIO REQUIRED QUIET IMPORTED_TARGET glib-2.0 gio-2.0)
set(OSPREY_ACAP_VERSION 1.0.0)

function(osprey_acap_library name source)
  add_library(${name} SHARED ${source})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/include)
  set_target_properties(${name} PROPERTIES VERSION ${OSPREY_ACAP_VERSION} SOVERSION 1
    LINK_DEPENDS ${CMAKE_SOURCE_DIR}/src/acap/acap.map)
  target_link_options(${name} PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/src/acap/acap.map)
  if(NOT OSPREY_SANITIZE AND NOT OSPREY_FUZZ)
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
  configure_file(${CMAKE_SOURCE_DIR}/src/acap/${name}.pc.in ${CMAKE_BINARY_DIR}/pkgconfig/${name}.pc @ONLY)
  install(TARGETS ${name} LIBRARY DESTINATION lib COMPONENT acap)
  install(FILES ${CMAKE_BINARY_DIR}/pkgconfig/${name}.pc DESTINATION lib/pkgconfig COMPONENT acap)
endfunction()

osprey_acap_library(bbox src/acap/bbox.cpp)
target_link_libraries(bbox PRIVATE nlohmann_json::nlohmann_json)
osprey_acap_library(axparameter src/acap/axparameter.cpp)
target_link_libraries(axparameter PUBLIC PkgConfig::ACAP_GIO PRIVATE nlohmann_json::nlohmann_json)

install(FILES ${CMAKE_SOURCE_DIR}/include/bbox.h DESTINATION include COMPONENT acap)
install(FILES ${CMAKE_SOURCE_DIR}/include/axsdk/axparameter.h DESTINATION include/axsdk COMPONENT acap)

include(GoogleTest)
add_executable(acap_tests tests/acap/bbox_test.cpp tests/acap/axparameter_test.cpp)
target_link_libraries(acap_tests PRIVATE bbox axparameter nlohmann_json::nlohmann_json GTest::gtest_main)
osprey_glue_code(acap_tests)
gtest_discover_tests(acap_tests DISCOVERY_TIMEOUT 120 PROPERTIES LABELS unit TIMEOUT 60)
osprey_sanitizer_checked(acap_tests)

# A C app built the way the examples are (pkg-config, their -W flags, -Werror)
# against an install into a temporary prefix.
if(NOT OSPREY_SANITIZE AND NOT OSPREY_FUZZ)
  add_test(NAME acap_pkg_config
    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/acap/pkg_config_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR}/tests/acap/app.c)
  set_tests_properties(acap_pkg_config PROPERTIES LABELS unit TIMEOUT 120)
endif()
