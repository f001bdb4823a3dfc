// Closes the region avx512_target_begin.h opened; the code after it is
// compiled for the baseline CPU again. No include guard (see the begin file).
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#undef OSPREY_AVX512_TARGET
#undef OSPREY_AVX512_PRAGMA
#undef OSPREY_AVX512_PRAGMA_
