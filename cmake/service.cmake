# The osprey ML service: ospreyd (the daemon), liblarod (the Larod 3 C API,
# include/larod.h), osprey-client, the camera-style example and the service
# tests (ctest label "service"). See docs/service.md.

# Wire protocol, shared by the daemon and the client library.
add_library(osprey_service_proto STATIC src/service/codec.cpp src/service/transport.cpp src/service/protocol.cpp)
set_target_properties(osprey_service_proto PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_include_directories(osprey_service_proto PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(osprey_service_proto PUBLIC Threads::Threads)
# The sanitizer tree fuzzes its decoders (tests/fuzz/fuzz_service_protocol.cpp,
# built with the other fuzzers in cmake/tests.cmake).
if(TARGET fuzz_service_protocol)
  target_link_libraries(fuzz_service_protocol PRIVATE osprey_service_proto)
endif()

# liblarod.so: C API, implemented in C++, exporting only larod* symbols.
file(GLOB LAROD_SOURCES CONFIGURE_DEPENDS src/service/client/*.cpp)
add_library(larod SHARED ${LAROD_SOURCES})
target_include_directories(larod PUBLIC ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(larod PRIVATE osprey_service_proto Threads::Threads)
set_target_properties(larod PROPERTIES VERSION 3.6.0 SOVERSION 3
  LINK_DEPENDS ${CMAKE_SOURCE_DIR}/src/service/client/larod.map)
target_link_options(larod PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/src/service/client/larod.map)
if(NOT OSPREY_SANITIZE AND NOT OSPREY_FUZZ)
  # Sanitizer runtimes are resolved by the executable, so only plain builds check this.
  target_link_options(larod PRIVATE -Wl,--no-undefined)
endif()

# The daemon.
file(GLOB SERVICE_DAEMON_SOURCES CONFIGURE_DEPENDS src/service/daemon/*.cpp)
add_library(osprey_service_daemon STATIC ${SERVICE_DAEMON_SOURCES})
target_link_libraries(osprey_service_daemon PUBLIC osprey_service_proto osprey_core ${YUV_LIBRARY})
target_link_libraries(osprey_service_daemon PUBLIC osprey_quant_targets)  # emulated DLPU devices

add_executable(ospreyd tools/ospreyd/main.cpp)
target_link_libraries(ospreyd PRIVATE osprey_service_daemon)

# larod-client's conventions, on liblarod.
add_executable(osprey-client tools/osprey-client/main.c)
target_link_libraries(osprey-client PRIVATE larod)
set_target_properties(osprey-client PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)

# ---- Tests (label "service"): each test starts its own ospreyd on a
# temporary socket (OSPREY_SOCKET) and stops it.
include(GoogleTest)
# ospreyd's GoogleTest suites below are labelled `service` and `daemon`:
# `daemon` picks them alone, which the sanitizer tree needs (it builds only
# them of the service's tests). gtest_discover_tests flattens a list of
# labels (CMake 3.25), so ctest gets both from a file it reads after the
# lists of tests discovered (TEST_INCLUDE_FILES, in order).
set(OSPREY_DAEMON_SUITES osprey_service_tests osprey_service_unit_tests service_alloc_failure_test)
list(TRANSFORM OSPREY_DAEMON_SUITES APPEND _TESTS OUTPUT_VARIABLE OSPREY_DAEMON_TEST_LISTS)
add_executable(service_crash_client tests/service/crash_client.cpp)
target_link_libraries(service_crash_client PRIVATE larod)
add_executable(service_make_tiny_model tests/service/make_tiny_model.cpp)
target_link_libraries(service_make_tiny_model PRIVATE osprey_test_support)

add_executable(osprey_service_tests tests/service/api_test.cpp tests/service/reliability_test.cpp
  tests/service/api36_test.cpp)
target_include_directories(osprey_service_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests/service)
target_link_libraries(osprey_service_tests PRIVATE larod osprey_service_proto osprey_test_support
  ${YUV_LIBRARY} GTest::gtest_main)
target_compile_definitions(osprey_service_tests PRIVATE OSPREYD_PATH="$<TARGET_FILE:ospreyd>"
  CRASH_CLIENT_PATH="$<TARGET_FILE:service_crash_client>")
add_dependencies(osprey_service_tests ospreyd service_crash_client)
osprey_glue_code(osprey_service_tests)
gtest_discover_tests(osprey_service_tests DISCOVERY_TIMEOUT 120
  PROPERTIES TIMEOUT 120)

# Units of the service without a daemon: the message bodies, the client
# connection over a socketpair, the RUN_JOB checks, the memory budget.
add_executable(osprey_service_unit_tests tests/service/protocol_test.cpp tests/service/connection_test.cpp
  tests/service/job_validation_test.cpp tests/service/memory_budget_test.cpp
  src/service/client/connection.cpp)
target_link_libraries(osprey_service_unit_tests PRIVATE osprey_service_daemon GTest::gtest_main)
osprey_glue_code(osprey_service_unit_tests)
gtest_discover_tests(osprey_service_unit_tests DISCOVERY_TIMEOUT 120
  PROPERTIES TIMEOUT 120)

# Allocation failures injected into liblarod (a binary of its own: it
# replaces operator new).
add_executable(service_alloc_failure_test tests/service/alloc_failure_test.cpp)
target_include_directories(service_alloc_failure_test PRIVATE ${CMAKE_SOURCE_DIR}/tests/service)
target_link_libraries(service_alloc_failure_test PRIVATE larod osprey_service_proto osprey_test_support
  GTest::gtest_main)
target_compile_definitions(service_alloc_failure_test PRIVATE OSPREYD_PATH="$<TARGET_FILE:ospreyd>")
add_dependencies(service_alloc_failure_test ospreyd)
gtest_discover_tests(service_alloc_failure_test DISCOVERY_TIMEOUT 120
  PROPERTIES TIMEOUT 300)
file(CONFIGURE OUTPUT daemon_test_labels.cmake CONTENT [=[
foreach(t IN LISTS @OSPREY_DAEMON_TEST_LISTS@)
  set_tests_properties("${t}" PROPERTIES LABELS "service;daemon")
endforeach()
]=] @ONLY)
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${CMAKE_CURRENT_BINARY_DIR}/daemon_test_labels.cmake)
# ospreyd faces untrusted clients: the sanitizer tree builds it and the
# suites above, and a daemon that ends with a sanitizer report (a leak, say)
# fails the test that stopped it.
osprey_sanitizer_checked(ospreyd service_crash_client ${OSPREY_DAEMON_SUITES})

# The header is plain C11: a C program built with strict flags uses all of it.
add_executable(service_c_api_test tests/service/c_api_test.c)
target_link_libraries(service_c_api_test PRIVATE larod)
set_target_properties(service_c_api_test PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(service_c_api_test PRIVATE -Wall -Wextra -Wpedantic -Werror -Wunused-parameter)

set(SERVICE_RUN ${CMAKE_SOURCE_DIR}/tests/service/run_with_daemon.sh)
add_test(NAME service_c_api
  COMMAND bash ${SERVICE_RUN} $<TARGET_FILE:ospreyd> sh -c
    "\"$1\" \"$OSPREY_TEST_TMP/tiny.tflite\" && \"$2\" \"$OSPREY_TEST_TMP/tiny.tflite\""
    sh $<TARGET_FILE:service_make_tiny_model> $<TARGET_FILE:service_c_api_test>)
add_test(NAME service_osprey_client
  COMMAND bash ${SERVICE_RUN} $<TARGET_FILE:ospreyd> bash ${CMAKE_SOURCE_DIR}/tests/service/client_test.sh
    $<TARGET_FILE:osprey-client> $<TARGET_FILE:service_make_tiny_model>)
set_tests_properties(service_c_api service_osprey_client PROPERTIES LABELS service TIMEOUT 120 SKIP_RETURN_CODE 77)

# The whole public Larod 3.6 header: all 72 prototypes redeclared as
# documented after including larod.h (a conflicting type fails the build),
# enum values, macros and struct layouts asserted; every symbol must link.
add_executable(service_larod_header_test tests/service/larod_header_test.c)
target_link_libraries(service_larod_header_test PRIVATE larod)
set_target_properties(service_larod_header_test PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(service_larod_header_test PRIVATE -Wall -Wextra -Wpedantic -Werror)
add_test(NAME service_larod_header COMMAND service_larod_header_test)
set_tests_properties(service_larod_header PROPERTIES LABELS "service;unit" TIMEOUT 30)
osprey_sanitizer_checked(service_larod_header_test)

# larodBuildTensorDims/Pitches and larodConvertVmemFdToDmabuf need no daemon.
add_executable(service_tensor_builders_test tests/service/tensor_builders_test.cpp)
target_link_libraries(service_tensor_builders_test PRIVATE larod GTest::gtest_main)
add_test(NAME service_tensor_builders COMMAND service_tensor_builders_test)
set_tests_properties(service_tensor_builders PROPERTIES LABELS "service;unit" TIMEOUT 60)
osprey_sanitizer_checked(service_tensor_builders_test)

# Per-job overhead of the service over in-process execution (prints numbers).
add_executable(service_overhead_bench tests/service/overhead_bench.cpp)
target_link_libraries(service_overhead_bench PRIVATE larod osprey_test_support)
add_test(NAME service_overhead COMMAND bash ${SERVICE_RUN} $<TARGET_FILE:ospreyd> $<TARGET_FILE:service_overhead_bench> 2000)
set_tests_properties(service_overhead PROPERTIES LABELS service TIMEOUT 120)

# The camera-style example (C, larod.h + FFmpeg's libraries to decode video).
pkg_check_modules(LIBAV IMPORTED_TARGET libavformat libavcodec libavutil libswscale)
if(LIBAV_FOUND)
  add_executable(camera_pipeline examples/camera_pipeline.c)
  target_link_libraries(camera_pipeline PRIVATE larod PkgConfig::LIBAV m)
  set_target_properties(camera_pipeline PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  add_test(NAME service_camera_example
    COMMAND bash ${SERVICE_RUN} $<TARGET_FILE:ospreyd> bash ${CMAKE_SOURCE_DIR}/tests/service/example_test.sh
      $<TARGET_FILE:camera_pipeline>)
  set_tests_properties(service_camera_example PROPERTIES LABELS service TIMEOUT 300 SKIP_RETURN_CODE 77)
else()
  message(STATUS "libavformat/libavcodec/libswscale not found: examples/camera_pipeline is not built")
endif()

# With sanitizers, liblarod (C++) needs the C++ parts of the UBSan runtime,
# which clang only links for C++ links: link the C programs as C++ there.
# Plain builds link them with the C driver, as any larod application would.
if(OSPREY_SANITIZE)
  foreach(t osprey-client service_c_api_test service_larod_header_test camera_pipeline)
    if(TARGET ${t})
      set_target_properties(${t} PROPERTIES LINKER_LANGUAGE CXX)
    endif()
  endforeach()
endif()

# The emulated DLPU devices (src/service/daemon/dlpu_device.cpp): what they
# load, log and compute, against `osprey check` in-process and on the command line.
add_executable(osprey_service_dlpu_tests tests/service/dlpu_devices_test.cpp)
target_include_directories(osprey_service_dlpu_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests/service)
target_link_libraries(osprey_service_dlpu_tests PRIVATE larod osprey_service_proto osprey_quant_targets
  osprey_test_support GTest::gtest_main)
target_compile_definitions(osprey_service_dlpu_tests PRIVATE OSPREYD_PATH="$<TARGET_FILE:ospreyd>")
add_dependencies(osprey_service_dlpu_tests ospreyd)
osprey_glue_code(osprey_service_dlpu_tests)
gtest_discover_tests(osprey_service_dlpu_tests DISCOVERY_TIMEOUT 120 PROPERTIES LABELS service TIMEOUT 120)
add_executable(service_make_dlpu_models tests/service/make_dlpu_models.cpp)
target_include_directories(service_make_dlpu_models PRIVATE ${CMAKE_SOURCE_DIR}/tests/service)
target_link_libraries(service_make_dlpu_models PRIVATE osprey_test_support)
add_test(NAME service_dlpu_client
  COMMAND bash ${SERVICE_RUN} $<TARGET_FILE:ospreyd> bash ${CMAKE_SOURCE_DIR}/tests/service/dlpu_client_test.sh
    $<TARGET_FILE:osprey-client> $<TARGET_FILE:osprey> $<TARGET_FILE:service_make_dlpu_models>)
set_tests_properties(service_dlpu_client PROPERTIES LABELS service TIMEOUT 120)

# examples/vdo_detect end to end: osprey installed into a temporary prefix, the
# app built with its own Makefile through pkg-config, vtest.avi through
# libvdostream, a uint8 SSD with TFLite_Detection_PostProcess on
# axis-a8-dlpu-tflite; every frame checked against `osprey detect`.
if(TARGET make_ssd_postprocess_model AND NOT OSPREY_SANITIZE AND NOT OSPREY_FUZZ)
  add_test(NAME service_vdo_detect_example
    COMMAND bash ${SERVICE_RUN} $<TARGET_FILE:ospreyd> bash ${CMAKE_SOURCE_DIR}/tests/service/vdo_detect_test.sh
      ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} $<TARGET_FILE:make_ssd_postprocess_model>)
  set_tests_properties(service_vdo_detect_example PROPERTIES LABELS service TIMEOUT 180 SKIP_RETURN_CODE 77)
endif()
