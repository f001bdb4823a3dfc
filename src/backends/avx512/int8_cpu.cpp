#include "backends/avx512/int8_cpu.h"

#include "backends/avx512/int8_microkernels.h"

#include <cpuinfo.h>

#include <cstdlib>
#include <string_view>

#include "core/error.h"

namespace osprey {

Int8Level int8_cpu_level() {
  static const Int8Level level = [] {
    if (!cpuinfo_initialize()) return Int8Level::kNone;
    if (!cpuinfo_has_x86_avx512f() || !cpuinfo_has_x86_avx512bw() || !cpuinfo_has_x86_avx512vl() ||
        !cpuinfo_has_x86_avx512dq()) {
      return cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() ? Int8Level::kAvx2 : Int8Level::kNone;
    }
    if (!cpuinfo_has_x86_avx512vnni()) return Int8Level::kAvx512;
    return cpuinfo_has_x86_avx512vbmi() ? Int8Level::kVnniVbmi : Int8Level::kVnni;
  }();
  return level;
}

Int8Level int8_level() {
  const Int8Level cpu = int8_cpu_level();
  const char* v = std::getenv("OSPREY_AVX512_INT8");
  if (!v || !*v) return cpu;
  const std::string_view s(v);
  Int8Level cap = Int8Level::kVnniVbmi;
  if (s == "none") {
    cap = Int8Level::kNone;
  } else if (s == "avx512") {
    cap = Int8Level::kAvx512;
  } else if (s == "avx2") {
    cap = Int8Level::kAvx2;
  } else if (s == "vnni") {
    cap = Int8Level::kVnni;
  } else {
    OSPREY_CHECK(s == "vnni-vbmi",
                 "OSPREY_AVX512_INT8 is '{}', expected vnni-vbmi, vnni, avx512, avx2 or none", s);
  }
  return static_cast<int>(cap) < static_cast<int>(cpu) ? cap : cpu;
}

const Int8Microkernels* int8_microkernels(Int8Level level) {
  switch (level) {
    case Int8Level::kVnniVbmi: return &int8_vnni_vbmi::microkernels();
    case Int8Level::kVnni: return &int8_vnni::microkernels();
    case Int8Level::kAvx512: return &int8_avx512::microkernels();
    default: return nullptr;  // kAvx2 has its own kernels (int8_avx2.h)
  }
}

const char* int8_level_name(Int8Level level) {
  switch (level) {
    case Int8Level::kVnniVbmi: return "vnni-vbmi";
    case Int8Level::kVnni: return "vnni";
    case Int8Level::kAvx512: return "avx512";
    case Int8Level::kAvx2: return "avx2";
    default: return "none";
  }
}

}  // namespace osprey
