// AVX-512 intrinsics for osprey's own kernels, included once per kernel file.
#pragma once

// GCC 12's AVX-512 intrinsics start some results from _mm512_undefined_ps(),
// which -W(maybe-)uninitialized flags inside their own header.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>
