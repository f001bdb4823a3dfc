# `osprey ocr` end to end on the sample photos with ONNX Runtime running the
# PP-OCR models (tests/vision/ocr_ort.mjs); exit 77 (skipped) without the
# models, the photos or onnxruntime-node.
if(NODE_EXECUTABLE)
  add_test(NAME ocr_onnxruntime
           COMMAND ${OSPREY_NODE} ${CMAKE_SOURCE_DIR}/tests/vision/ocr_ort.mjs --osprey $<TARGET_FILE:osprey>)
  set_tests_properties(ocr_onnxruntime PROPERTIES LABELS "ocr;onnxruntime" TIMEOUT 600 SKIP_RETURN_CODE 77)
endif()
