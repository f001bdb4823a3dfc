// osprey's int8 microkernels (int8_microkernels.inc) built for AVX-512 VNNI (vpdpbusd, vpdpwssd);
// only called when int8_level() says the CPU has it.
#include "backends/avx512/int8_microkernels.h"

#include "backends/avx512/intrinsics.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#endif

#define OSPREY_INT8_VNNI
namespace osprey::int8_vnni {
#include "backends/avx512/int8_microkernels.inc"
}  // namespace osprey::int8_vnni
#undef OSPREY_INT8_VNNI

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
