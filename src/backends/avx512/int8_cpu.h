// Which int8 kernels of osprey's AVX-512 backend this CPU runs. The one place
// the int8 paths ask the CPU (cpuinfo) what it has:
//
//   vnni-vbmi  AVX-512 VNNI and VBMI (every VNNI CPU but Cascade and Cooper
//              Lake): vnni's kernels, bytes put in order by vpermb/vpermi2b
//   vnni       AVX-512 VNNI: vpdpbusd multiply-accumulates bytes
//   avx512     AVX-512 F+BW+VL+DQ: the same sums from vpmaddwd (16-bit products)
//   avx2       AVX2 and FMA, no AVX-512: 8-lane vpmaddwd kernels (int8_avx2.h);
//              the backend's float kernels stay off there
//   none       the backend leaves integer steps to the next backend
//
// OSPREY_AVX512_INT8=vnni-vbmi|vnni|avx512|avx2|none caps the level (a
// lower level than the CPU has, so tests and benchmarks can run every path
// on one machine); it is read each time a backend partitions a model.
#pragma once

namespace osprey {

enum class Int8Level { kNone = 0, kAvx2 = 1, kAvx512 = 2, kVnni = 3, kVnniVbmi = 4 };

// What this CPU has, capped by OSPREY_AVX512_INT8.
Int8Level int8_level();
// What this CPU has, ignoring the environment.
Int8Level int8_cpu_level();
const char* int8_level_name(Int8Level level);

}  // namespace osprey
