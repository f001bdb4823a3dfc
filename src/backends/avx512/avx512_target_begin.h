// Opens a region of code compiled for AVX-512 while the rest of the binary is
// not: include it after intrinsics.h (at file scope, so that <immintrin.h> is
// never first read inside a namespace), write the vector code, and close the
// region with avx512_target_end.h. Such code runs only where a CPU
// check (int8_cpu.h, cpuinfo) said the CPU has the features.
//
// OSPREY_AVX512_TARGET, defined before the include, names the features (as a
// string for the target attribute); the default is AVX-512 F/BW/VL/DQ. No
// include guard: a file may open several regions, one after another.
#ifndef OSPREY_AVX512_TARGET
#define OSPREY_AVX512_TARGET "avx512f,avx512bw,avx512vl,avx512dq"
#endif

// _Pragma with the feature string spliced in: macro arguments expand before
// the stringizing one level down.
#define OSPREY_AVX512_PRAGMA_(text) _Pragma(#text)
#define OSPREY_AVX512_PRAGMA(text) OSPREY_AVX512_PRAGMA_(text)

#if defined(__clang__)
OSPREY_AVX512_PRAGMA(clang attribute push(__attribute__((target(OSPREY_AVX512_TARGET))), apply_to = function))
#else
#pragma GCC push_options
OSPREY_AVX512_PRAGMA(GCC target(OSPREY_AVX512_TARGET))
#endif
