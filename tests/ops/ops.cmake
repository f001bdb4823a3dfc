# Ops checked against LiteRT on seeded random one-op models written by osprey's
# model writer (tests/ops/). Runs in `make test`'s release ctest run (label litert);
# exit 77 (skipped) when @litertjs/core is not installed.
add_executable(make_squared_difference_model tests/ops/make_squared_difference_model.cpp)
target_link_libraries(make_squared_difference_model PRIVATE osprey_core)

find_program(NODE_EXECUTABLE node)
if(NODE_EXECUTABLE)
  add_test(NAME squared_difference_litert
           COMMAND ${NODE_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/ops/squared_difference_litert.mjs
                   --osprey $<TARGET_FILE:osprey> --make-model $<TARGET_FILE:make_squared_difference_model>)
  set_tests_properties(squared_difference_litert PROPERTIES LABELS "ops;litert" TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()

# TFLite_Detection_PostProcess appended to the zoo's SSD detector (float and
# uint8), checked against LiteRT on the sample photos; exit 77 without the
# model, the photos or @litertjs/core.
add_executable(make_ssd_postprocess_model tests/ops/make_ssd_postprocess_model.cpp)
target_link_libraries(make_ssd_postprocess_model PRIVATE osprey_core osprey_vision)
if(NODE_EXECUTABLE)
  add_test(NAME detection_postprocess_litert
           COMMAND ${NODE_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/ops/detection_postprocess_litert.mjs
                   --osprey $<TARGET_FILE:osprey> --make-model $<TARGET_FILE:make_ssd_postprocess_model>)
  set_tests_properties(detection_postprocess_litert PROPERTIES LABELS "ops;litert" TIMEOUT 600 SKIP_RETURN_CODE 77)
endif()

# QUANTIZE's rounding (float to int8 and uint8, halfway values and their
# neighbours) against LiteRT.
add_executable(make_quantize_model tests/ops/make_quantize_model.cpp)
target_link_libraries(make_quantize_model PRIVATE osprey_core)
if(NODE_EXECUTABLE)
  add_test(NAME quantize_litert
           COMMAND ${NODE_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/ops/quantize_litert.mjs
                   --osprey $<TARGET_FILE:osprey> --make-model $<TARGET_FILE:make_quantize_model>)
  set_tests_properties(quantize_litert PROPERTIES LABELS "ops;litert" TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()

# MEAN over height and width (int8 and uint8) against LiteRT.
add_executable(make_mean_model tests/ops/make_mean_model.cpp)
target_link_libraries(make_mean_model PRIVATE osprey_core)
if(NODE_EXECUTABLE)
  add_test(NAME mean_litert
           COMMAND ${NODE_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/ops/mean_litert.mjs
                   --osprey $<TARGET_FILE:osprey> --make-model $<TARGET_FILE:make_mean_model>)
  set_tests_properties(mean_litert PROPERTIES LABELS "ops;litert" TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
