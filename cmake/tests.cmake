# Test executables. Labels: unit (fast, every build), malformed (bad inputs,
# meant for the sanitizer build), fuzz (bounded libFuzzer runs).
include(GoogleTest)

add_library(osprey_test_support STATIC tests/support/model_builder.cpp tests/kernels/op_tester.cpp)
target_include_directories(osprey_test_support PUBLIC ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(osprey_test_support PUBLIC osprey_core GTest::gtest)

file(GLOB_RECURSE UNIT_TEST_SOURCES CONFIGURE_DEPENDS tests/unit/*.cpp tests/kernels/*_test.cpp tests/vision/*.cpp)
add_executable(osprey_tests ${UNIT_TEST_SOURCES})
target_link_libraries(osprey_tests PRIVATE osprey_test_support osprey_vision GTest::gtest_main)
gtest_discover_tests(osprey_tests DISCOVERY_TIMEOUT 120 PROPERTIES LABELS unit)

# Integer seed models made by `osprey quantize` for the malformed-model tests
# and the model-loader fuzzer (nothing when the zoo is not fetched).
set(QUANTIZED_SEEDS ${CMAKE_BINARY_DIR}/quantized-seeds)
add_test(NAME quantized_seeds
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/fuzz/make_quantized_seeds.sh $<TARGET_FILE:osprey> ${QUANTIZED_SEEDS})
set_tests_properties(quantized_seeds PROPERTIES LABELS malformed FIXTURES_SETUP quantized_seeds TIMEOUT 300)

file(GLOB MALFORMED_TEST_SOURCES CONFIGURE_DEPENDS tests/malformed/*.cpp)
add_executable(osprey_malformed_tests ${MALFORMED_TEST_SOURCES})
target_link_libraries(osprey_malformed_tests PRIVATE osprey_test_support GTest::gtest_main)
gtest_discover_tests(osprey_malformed_tests DISCOVERY_TIMEOUT 120
                     PROPERTIES LABELS malformed FIXTURES_REQUIRED quantized_seeds
                                ENVIRONMENT OSPREY_QUANTIZED_SEEDS=${QUANTIZED_SEEDS})

# The command line's contract: bad input gives one line on stderr and exit 1.
add_test(NAME cli_errors COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/errors.sh $<TARGET_FILE:osprey>)
set_tests_properties(cli_errors PROPERTIES LABELS "unit;malformed")

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
             COMMAND bash ${CMAKE_SOURCE_DIR}/tests/fuzz/run_bounded.sh $<TARGET_FILE:${name}> ${name} 45)
    set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 300 FIXTURES_REQUIRED quantized_seeds
                                            ENVIRONMENT OSPREY_QUANTIZED_SEEDS=${QUANTIZED_SEEDS})
  endforeach()
endif()

# `osprey landmarks` on the sample photos: JSON schema, subjects, one-line errors.
add_test(NAME cli_landmarks COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/landmarks.sh $<TARGET_FILE:osprey>)
set_tests_properties(cli_landmarks PROPERTIES LABELS "unit;malformed" SKIP_RETURN_CODE 77 TIMEOUT 300)
