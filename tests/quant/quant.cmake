# Quantization: the src/quant library and its tests.
#
# Wire it with one line in the top-level CMakeLists.txt, after
# include(cmake/tests.cmake):
#
#   include(tests/quant/quant.cmake)
#
# Until then the quantization library is compiled into the two translation
# units that include src/quant/sources.inc (tools/osprey/cmd_quantize.cpp and
# tests/unit/quant_library_test.cpp); this file compiles it once, as
# osprey_quant, and turns that inclusion off (OSPREY_QUANT_LIBRARY).

file(GLOB QUANT_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/quant/*.cpp)
# What each DLPU target runs (targets.cpp) is ospreyd's too: its emulated DLPU
# devices refuse and report models with the same code as `osprey check`.
add_library(osprey_quant_targets STATIC ${CMAKE_SOURCE_DIR}/src/quant/targets.cpp)
target_link_libraries(osprey_quant_targets PUBLIC osprey_core)
list(REMOVE_ITEM QUANT_SOURCES ${CMAKE_SOURCE_DIR}/src/quant/targets.cpp)
add_library(osprey_quant STATIC ${QUANT_SOURCES})
target_link_libraries(osprey_quant PUBLIC osprey_vision osprey_quant_targets)
target_compile_definitions(osprey_quant PUBLIC OSPREY_QUANT_LIBRARY)
target_link_libraries(osprey PRIVATE osprey_quant)
target_link_libraries(osprey_tests PRIVATE osprey_quant)
if(TARGET fuzz_quantizer)  # the sanitizer tree's (cmake/tests.cmake)
  target_link_libraries(fuzz_quantizer PRIVATE osprey_quant)
endif()

# osprey's integer outputs against the real TFLite runtime (LiteRT under Node),
# for every zoo model in seven configurations, through the default backend stack
# (XNNPACK's quantized operators and osprey's own) and the reference kernels,
# which must also agree byte for byte (~3 minutes on a quiet machine).
# Exit 77 (skipped) when the zoo, the sample photos or @litertjs/core are missing.
if(NODE_EXECUTABLE)
  add_test(NAME quant_litert_compare
           COMMAND ${OSPREY_NODE} ${CMAKE_SOURCE_DIR}/tests/quant/litert_compare.mjs --osprey $<TARGET_FILE:osprey>
                   --backend default --backend ref)
  # The longest test of the release tree (~200 s): COST makes ctest start it first
  # even in a fresh tree, which has no timings yet; started late, as its place in
  # the list would have it, it ran alone for the last ~25 s of the run.
  set_tests_properties(quant_litert_compare PROPERTIES LABELS "quant;litert" TIMEOUT 900 SKIP_RETURN_CODE 77 COST 200)
endif()

# The same comparison with osprey-avx512's int8 kernels held to their AVX2
# level (OSPREY_AVX512_INT8=avx2, backends/avx512/int8_cpu.h), as on the many
# x86 CPUs without AVX-512, on the two models that reach all of those kernels
# (convolutions, PRELU, AVERAGE_POOL_2D, tables) in a per-tensor and a
# per-channel form. On a CPU without AVX2 the level falls to none.
if(NODE_EXECUTABLE)
  add_test(NAME quant_litert_compare_avx2
           COMMAND ${OSPREY_NODE} ${CMAKE_SOURCE_DIR}/tests/quant/litert_compare.mjs --osprey $<TARGET_FILE:osprey>
                   --models selfie_segmentation,palm_detection_lite --configs pt-uint8,pc-int8
                   --backend default --backend ref)
  set_tests_properties(quant_litert_compare_avx2 PROPERTIES ENVIRONMENT OSPREY_AVX512_INT8=avx2
                       LABELS "quant;litert" TIMEOUT 900 SKIP_RETURN_CODE 77)
endif()
