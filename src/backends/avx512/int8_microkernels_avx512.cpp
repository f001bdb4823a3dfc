// osprey's int8 microkernels (int8_microkernels.inc) built for AVX-512 F/BW without VNNI (vpmaddwd);
// only called when int8_level() says the CPU has it.
#define OSPREY_INT8_NAMESPACE int8_avx512
#include "backends/avx512/int8_microkernels.inc"
