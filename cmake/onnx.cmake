# ONNX import (src/onnx): libonnx (Debian libonnx-dev) parses, checks and
# shape-infers; osprey converts to its graph IR and writes .tflite.
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)
file(GLOB ONNX_IMPORT_SOURCES CONFIGURE_DEPENDS src/onnx/*.cpp)
add_library(osprey_onnx STATIC ${ONNX_IMPORT_SOURCES})
target_link_libraries(osprey_onnx PUBLIC osprey_core onnx onnx_proto)
target_link_libraries(osprey PRIVATE osprey_onnx)

# Small built-in models and malformed ones (label unit: the sanitizer build runs them too).
add_executable(osprey_onnx_tests tests/onnx/onnx_import_test.cpp)
target_link_libraries(osprey_onnx_tests PRIVATE osprey_onnx GTest::gtest_main)
osprey_glue_code(osprey_onnx_tests)
# GCC 12 warns falsely about std::string copies inlined into protobuf setters (GCC bug 105651).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(osprey_onnx_tests PRIVATE -Wno-restrict)
endif()
gtest_discover_tests(osprey_onnx_tests DISCOVERY_TIMEOUT 120 PROPERTIES LABELS unit TIMEOUT 300)
osprey_sanitizer_checked(osprey_onnx_tests)
if(TARGET fuzz_onnx_import)
  target_link_libraries(fuzz_onnx_import PRIVATE osprey_onnx)
endif()

# The PaddleOCR models against ONNX Runtime (osprey on .onnx, on the converted
# .tflite, and LiteRT on it); exit 77 without the models or the Node runtimes.
if(NODE_EXECUTABLE)
  add_test(NAME onnx_ppocr_ort
           COMMAND ${OSPREY_NODE} ${CMAKE_SOURCE_DIR}/tests/onnx/ppocr_ort.mjs --osprey $<TARGET_FILE:osprey>)
  set_tests_properties(onnx_ppocr_ort PROPERTIES LABELS "onnx;litert" TIMEOUT 900 SKIP_RETURN_CODE 77)
endif()
