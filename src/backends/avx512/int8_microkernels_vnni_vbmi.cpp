// osprey's int8 microkernels (int8_microkernels.inc) built for AVX-512 VNNI
// and VBMI (vpdpbusd, vpermb); only called when int8_level() says the CPU has them.
#define OSPREY_INT8_VNNI
#define OSPREY_INT8_VBMI
#define OSPREY_AVX512_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi"
#define OSPREY_INT8_NAMESPACE int8_vnni_vbmi
#include "backends/avx512/int8_microkernels.inc"
