# Test executables. Labels: unit (fast, every build), malformed (bad inputs,
# meant for the sanitizer build), fuzz (bounded libFuzzer runs), onnx (ONNX import
# against ONNX's node tests and ONNX Runtime; OSPREY_ONNX_TESTS, on by default).
include(GoogleTest)

add_library(osprey_test_support STATIC tests/support/model_builder.cpp tests/kernels/op_tester.cpp)
target_include_directories(osprey_test_support PUBLIC ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(osprey_test_support PUBLIC osprey_core GTest::gtest)
osprey_glue_code(osprey_test_support)

file(GLOB_RECURSE UNIT_TEST_SOURCES CONFIGURE_DEPENDS tests/unit/*.cpp tests/kernels/*_test.cpp tests/vision/*.cpp)
add_executable(osprey_tests ${UNIT_TEST_SOURCES})
target_link_libraries(osprey_tests PRIVATE osprey_test_support osprey_vision GTest::gtest_main)
target_precompile_headers(osprey_tests PRIVATE <gtest/gtest.h> <fmt/format.h> <nlohmann/json.hpp> <random> <vector>
                          <string> <cmath> <algorithm>)
osprey_glue_code(osprey_tests)
gtest_discover_tests(osprey_tests TEST_FILTER "-ThreadPool.*" DISCOVERY_TIMEOUT 120
                     PROPERTIES LABELS unit TIMEOUT 300)
# The thread pool's tests time sleeping items against each other, and a
# worker must wake within about a millisecond: beside another test's busy
# threads on two cores it can miss that (4 of 10 runs failed beside three
# busy threads, none of 15 beside one), so they run with nothing else.
gtest_discover_tests(osprey_tests TEST_FILTER "ThreadPool.*" DISCOVERY_TIMEOUT 120
                     PROPERTIES LABELS unit TIMEOUT 300 RUN_SERIAL TRUE)
osprey_sanitizer_checked(osprey_tests)

# The thread pool under ThreadSanitizer: its own files and a stress driver
# (tests/tsan/), built apart, in the optimised tree (a sanitizer build
# cannot add TSan to ASan).
if(NOT OSPREY_SANITIZE)
  add_executable(thread_pool_tsan tests/tsan/thread_pool_stress.cpp src/backends/thread_pool.cpp
                                  src/backends/pthreadpool_api.cpp src/runtime/step_site.cpp src/core/error.cpp)
  target_include_directories(thread_pool_tsan PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_compile_options(thread_pool_tsan PRIVATE -fsanitize=thread -O1)
  target_link_options(thread_pool_tsan PRIVATE -fsanitize=thread)
  target_link_libraries(thread_pool_tsan PRIVATE fmt::fmt Threads::Threads)
  set_target_properties(thread_pool_tsan PROPERTIES UNITY_BUILD OFF)
  add_test(NAME thread_pool_tsan COMMAND thread_pool_tsan)
  set_tests_properties(thread_pool_tsan PROPERTIES LABELS unit TIMEOUT 300)
endif()

# The int8 microkernels' lambdas all inlined (an optimised build only: the
# sanitizer build keeps them apart).
if(NOT OSPREY_SANITIZE AND CMAKE_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo)$")
  add_test(NAME int8_kernels_inlined
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/kernels/inlined_lambdas.sh $<TARGET_FILE:osprey>)
  set_tests_properties(int8_kernels_inlined PROPERTIES LABELS unit TIMEOUT 120)
  # Their hot dense tiles keep the sums in registers (bounds on stack traffic).
  add_test(NAME int8_tiles_in_registers
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/kernels/tile_spills.sh $<TARGET_FILE:osprey>)
  set_tests_properties(int8_tiles_in_registers PROPERTIES LABELS unit TIMEOUT 120)
endif()

# Integer seed models made by `osprey quantize` for the malformed-model tests
# and the model-loader fuzzer (nothing when the zoo is not fetched).
set(QUANTIZED_SEEDS ${CMAKE_BINARY_DIR}/quantized-seeds)
add_test(NAME quantized_seeds
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/fuzz/make_quantized_seeds.sh $<TARGET_FILE:osprey> ${QUANTIZED_SEEDS})
set_tests_properties(quantized_seeds PROPERTIES LABELS malformed FIXTURES_SETUP quantized_seeds TIMEOUT 300)

file(GLOB MALFORMED_TEST_SOURCES CONFIGURE_DEPENDS tests/malformed/*.cpp)
add_executable(osprey_malformed_tests ${MALFORMED_TEST_SOURCES})
target_link_libraries(osprey_malformed_tests PRIVATE osprey_test_support GTest::gtest_main)
osprey_glue_code(osprey_malformed_tests)
gtest_discover_tests(osprey_malformed_tests DISCOVERY_TIMEOUT 120
                     PROPERTIES LABELS malformed TIMEOUT 300 FIXTURES_REQUIRED quantized_seeds
                                ENVIRONMENT OSPREY_QUANTIZED_SEEDS=${QUANTIZED_SEEDS})
osprey_sanitizer_checked(osprey_malformed_tests)

# The command line's contract: bad input gives one line on stderr and exit 1.
add_test(NAME cli_errors COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/errors.sh $<TARGET_FILE:osprey>)
set_tests_properties(cli_errors PROPERTIES LABELS "unit;malformed" TIMEOUT 120)
# Zoo names, paths and files of the current folder; inspect on a model osprey cannot run.
add_test(NAME cli_model_paths COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/model_paths.sh $<TARGET_FILE:osprey>)
set_tests_properties(cli_model_paths PROPERTIES LABELS unit TIMEOUT 120)
# osprey quantize: --method auto, a calibration file unlike the others, bad options.
add_test(NAME cli_quantize COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/quantize.sh $<TARGET_FILE:osprey>)
set_tests_properties(cli_quantize PROPERTIES LABELS unit TIMEOUT 300)
osprey_sanitizer_checked(osprey)

if(OSPREY_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "OSPREY_FUZZ needs clang (libFuzzer)")
  endif()
  file(GLOB FUZZ_SOURCES CONFIGURE_DEPENDS tests/fuzz/fuzz_*.cpp)
  foreach(src ${FUZZ_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE osprey_core osprey_vision osprey_test_support)
    # Bounded run for `make test`; `make fuzz` runs longer.
    add_test(NAME ${name}
             COMMAND bash ${CMAKE_SOURCE_DIR}/tests/fuzz/run_bounded.sh $<TARGET_FILE:${name}> ${name} 30)
    set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 300 FIXTURES_REQUIRED quantized_seeds
                         ENVIRONMENT "OSPREY_QUANTIZED_SEEDS=${QUANTIZED_SEEDS};\
OSPREY_MAKE_RANDOM_OP_MODEL=$<TARGET_FILE:make_random_op_model>;\
OSPREY_MAKE_SQUARED_DIFFERENCE_MODEL=$<TARGET_FILE:make_squared_difference_model>;\
OSPREY_MAKE_LANDMARK_OPS_MODEL=$<TARGET_FILE:make_landmark_ops_model>;\
OSPREY_BIN=$<TARGET_FILE:osprey>")
    osprey_sanitizer_checked(${name})
  endforeach()
  # The makers of the model-loader fuzzer's one-op seeds (tests/ops/, tests/fuzz/make_op_seeds.sh).
  osprey_sanitizer_checked(make_random_op_model make_squared_difference_model make_landmark_ops_model)
endif()

# Node as every test runs it: V8 with no background threads. Node's exit
# can deadlock with a V8 background compile job (nodejs/node#54918, open): a
# LiteRT comparison printed "all passed" and then hung until its timeout.
# Found here, for every test file included after this one.
find_program(NODE_EXECUTABLE node)
set(OSPREY_NODE ${NODE_EXECUTABLE} --single-threaded)

# The comparison's own logic (node:test on made-up landmarks): fast, always on.
if(NODE_EXECUTABLE)
  add_test(NAME landmarks_agreement_logic
           COMMAND ${OSPREY_NODE} --test ${CMAKE_SOURCE_DIR}/tests/vision/landmarks_agreement_test.mjs)
  set_tests_properties(landmarks_agreement_logic PROPERTIES LABELS unit TIMEOUT 60)
  add_test(NAME every_test_can_end
           COMMAND ${OSPREY_NODE} ${CMAKE_SOURCE_DIR}/tests/support/every_test_can_end.mjs
                   ${CMAKE_CTEST_COMMAND} ${CMAKE_BINARY_DIR})
  set_tests_properties(every_test_can_end PROPERTIES LABELS unit TIMEOUT 60)
endif()

# osprey's landmarks against MediaPipe's JS solutions in headless Chromium
# (tools/mediapipe; minutes, not seconds). Needs `osprey landmarks`, hence off
# by default; exit 77 (Chromium cannot start) is reported as a skip.
option(OSPREY_LANDMARKS_COMPARE "Test osprey landmarks against MediaPipe in headless Chromium" ON)
if(OSPREY_LANDMARKS_COMPARE)
  if(NOT NODE_EXECUTABLE)
    message(FATAL_ERROR "OSPREY_LANDMARKS_COMPARE needs node")
  endif()
  # Frames of the sample videos as PNG files, for both sides of the comparison.
  add_executable(osprey_video_frames tests/support/video_frames.cpp)
  target_link_libraries(osprey_video_frames PRIVATE osprey_vision osprey_media)
  add_test(NAME landmarks_mediapipe
           COMMAND ${OSPREY_NODE} ${CMAKE_SOURCE_DIR}/tests/vision/landmarks_mediapipe_compare.mjs
                   --osprey $<TARGET_FILE:osprey> --frames-tool $<TARGET_FILE:osprey_video_frames>)
  # COST: the second longest (~50 s), started early (tests/quant/quant.cmake).
  set_tests_properties(landmarks_mediapipe PROPERTIES LABELS mediapipe TIMEOUT 1200 SKIP_RETURN_CODE 77 COST 50)
endif()

# ONNX import checked against ONNX's own backend node tests (Debian
# libonnx-testdata) and against ONNX Runtime on the PP-OCR models with real
# images (tests/onnx/; needs tools/onnxruntime's npm packages and the zoo's
# onnx/ and media/). Label onnx.
option(OSPREY_ONNX_TESTS "Run the ONNX node-case and ONNX Runtime comparison tests" ON)
if(OSPREY_ONNX_TESTS)
  find_program(NODE_EXECUTABLE node REQUIRED)
  add_test(NAME onnx_node_cases COMMAND ${OSPREY_NODE} ${CMAKE_SOURCE_DIR}/tests/onnx/node_cases.mjs)
  add_test(NAME onnx_ppocr_ort_compare COMMAND ${OSPREY_NODE} ${CMAKE_SOURCE_DIR}/tests/onnx/ppocr_ort_compare.mjs)
  set_tests_properties(onnx_node_cases onnx_ppocr_ort_compare
                       PROPERTIES LABELS onnx TIMEOUT 600 ENVIRONMENT OSPREY_BIN=$<TARGET_FILE:osprey>)
endif()

# `osprey landmarks` on the sample photos: JSON schema, subjects, one-line errors.
add_test(NAME cli_landmarks COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/landmarks.sh $<TARGET_FILE:osprey>)
set_tests_properties(cli_landmarks PROPERTIES LABELS "unit;malformed" SKIP_RETURN_CODE 77 TIMEOUT 300)
# `osprey landmarks --pipeline objectron` on coffee.png: JSON, tracking, one-line errors.
add_test(NAME cli_landmarks_objectron
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/landmarks_objectron.sh $<TARGET_FILE:osprey>)
set_tests_properties(cli_landmarks_objectron PROPERTIES LABELS "unit;malformed" SKIP_RETURN_CODE 77 TIMEOUT 300)
