# Ops checked against LiteRT on one-op models written by osprey's model writer
# (tests/ops/). They run in `make test`'s release ctest run (label litert);
# exit 77 (skipped) when @litertjs/core (or a zoo model they need) is missing.

# tests/ops/<maker>.cpp (linked with the libraries after it) writes the
# models; tests/ops/<name>.mjs runs them on LiteRT and on osprey. Tests may
# share a maker.
function(osprey_litert_op_test name maker)
  if(NOT TARGET ${maker})
    add_executable(${maker} tests/ops/${maker}.cpp)
    target_link_libraries(${maker} PRIVATE ${ARGN})
  endif()
  if(NODE_EXECUTABLE)
    add_test(NAME ${name}
             COMMAND ${OSPREY_NODE} ${CMAKE_SOURCE_DIR}/tests/ops/${name}.mjs
                     --osprey $<TARGET_FILE:osprey> --make-model $<TARGET_FILE:${maker}>)
    set_tests_properties(${name} PROPERTIES LABELS "ops;litert" TIMEOUT 600 SKIP_RETURN_CODE 77)
  endif()
endfunction()

# SQUARED_DIFFERENCE, float32 and int8, on seeded random models.
osprey_litert_op_test(squared_difference_litert make_squared_difference_model osprey_core)
# TFLite_Detection_PostProcess appended to the zoo's SSD detector (float and
# uint8), on the sample photos.
osprey_litert_op_test(detection_postprocess_litert make_ssd_postprocess_model osprey_core osprey_vision)
# QUANTIZE's rounding (float to int8 and uint8: halfway values and their
# neighbours; between integer types: every value).
osprey_litert_op_test(quantize_litert make_quantize_model osprey_core)
# MEAN over height and width (int8 and uint8), near-half means included.
osprey_litert_op_test(mean_litert make_reduce_model osprey_core)
# SUM (int8 and uint8) over several axes: ties, near-half sums, equal parameters.
osprey_litert_op_test(sum_litert make_reduce_model osprey_core)
# LEAKY_RELU (int8 and uint8) on every input value.
osprey_litert_op_test(leaky_relu_litert make_leaky_relu_model osprey_core)
# LOGISTIC and TANH (int8 and uint8) on every input value, at input scales
# that put table values on rounding ties.
osprey_litert_op_test(lut_litert make_lut_model osprey_core)
# Twenty-two ops, int8 and uint8, on seeded random one-op models (shapes, scales, zero
# points, options, weights).
osprey_litert_op_test(op_sweep_litert make_random_op_model osprey_core)
# Seeds of MediaPipe's landmark custom ops for the model fuzzers
# (tests/fuzz/make_op_seeds.sh); LiteRT has no kernels for them.
add_executable(make_landmark_ops_model tests/ops/make_landmark_ops_model.cpp)
target_link_libraries(make_landmark_ops_model PRIVATE osprey_core)
