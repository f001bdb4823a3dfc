# `make check-headers`: every header compiles on its own, so that no file
# depends on what happened to be included before it. Not part of `make test`
# (about a second per header, two minutes in all on 2 cores); the unity build
# and precompiled headers would hide exactly these faults, so neither is used
# here. The AVX-512 target_begin/end files are fragments by design.
file(GLOB_RECURSE OSPREY_CHECKED_HEADERS CONFIGURE_DEPENDS RELATIVE ${CMAKE_SOURCE_DIR}/src
  ${CMAKE_SOURCE_DIR}/src/*.h)
list(FILTER OSPREY_CHECKED_HEADERS EXCLUDE REGEX "_target_(begin|end)\\.h$")
file(GLOB_RECURSE OSPREY_PUBLIC_HEADERS CONFIGURE_DEPENDS RELATIVE ${CMAKE_SOURCE_DIR}/include
  ${CMAKE_SOURCE_DIR}/include/*.h)

set(check_dir ${CMAKE_BINARY_DIR}/header_check)
set(check_sources)
foreach(header ${OSPREY_CHECKED_HEADERS})
  string(MAKE_C_IDENTIFIER ${header} name)
  set(content "#include \"${header}\"\n")
  # A header that says it belongs inside a target region is checked there.
  file(STRINGS ${CMAKE_SOURCE_DIR}/src/${header} region REGEX "inside an [a-z0-9]+_target_begin\\.h region")
  if(region MATCHES "inside an ([a-z0-9]+)_target_begin")
    set(fragment backends/avx512/${CMAKE_MATCH_1}_target)
    set(content "#include \"${fragment}_begin.h\"\n${content}#include \"${fragment}_end.h\"\n")
  endif()
  file(CONFIGURE OUTPUT ${check_dir}/${name}.cpp CONTENT "${content}")
  list(APPEND check_sources ${check_dir}/${name}.cpp)
endforeach()
# The public headers are C: apps include them from C.
foreach(header ${OSPREY_PUBLIC_HEADERS})
  string(MAKE_C_IDENTIFIER ${header} name)
  file(CONFIGURE OUTPUT ${check_dir}/public_${name}.c CONTENT "#include <${header}>\n")
  list(APPEND check_sources ${check_dir}/public_${name}.c)
endforeach()

add_library(osprey_header_check OBJECT EXCLUDE_FROM_ALL ${check_sources})
target_link_libraries(osprey_header_check PRIVATE osprey_vision osprey_onnx osprey_service_daemon
  osprey_media_av_code PkgConfig::VDO_GLIB)
target_include_directories(osprey_header_check PRIVATE ${CMAKE_SOURCE_DIR}/include)
set_target_properties(osprey_header_check PROPERTIES UNITY_BUILD OFF DISABLE_PRECOMPILE_HEADERS ON)
