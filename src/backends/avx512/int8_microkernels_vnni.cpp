// osprey's int8 microkernels (int8_microkernels.inc) built for AVX-512 VNNI (vpdpbusd);
// only called when int8_level() says the CPU has it.
#define OSPREY_INT8_VNNI
#define OSPREY_AVX512_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"
#define OSPREY_INT8_NAMESPACE int8_vnni
#include "backends/avx512/int8_microkernels.inc"
