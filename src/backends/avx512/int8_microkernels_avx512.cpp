// osprey's int8 microkernels (int8_microkernels.inc) built for AVX-512 F/BW without VNNI (vpmaddwd);
// only called when int8_level() says the CPU has it.
#include "backends/avx512/int8_microkernels.h"

#include "backends/avx512/intrinsics.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq")
#endif

namespace osprey::int8_avx512 {
#include "backends/avx512/int8_microkernels.inc"
}  // namespace osprey::int8_avx512

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
