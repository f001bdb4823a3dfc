// Opens a region of code compiled for AVX2 and FMA (no AVX-512) while the
// rest of the binary keeps the baseline: include it after intrinsics.h (at
// file scope), write the vector code, close the region with
// avx2_target_end.h. Such code runs only where int8_level() (int8_cpu.h) said
// the CPU has AVX2 and FMA. No include guard: a file may open several regions.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
