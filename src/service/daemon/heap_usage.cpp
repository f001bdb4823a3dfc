#include "service/daemon/heap_usage.h"

#if defined(__SANITIZE_ADDRESS__)
#define OSPREY_ASAN_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OSPREY_ASAN_HEAP 1
#endif
#endif

#ifdef OSPREY_ASAN_HEAP
#include <sanitizer/allocator_interface.h>
#else
#include <malloc.h>
#endif

namespace osprey::service {

uint64_t heap_bytes_in_use() {
#ifdef OSPREY_ASAN_HEAP
  // AddressSanitizer's allocator replaces glibc's, whose statistics then stay empty.
  return __sanitizer_get_current_allocated_bytes();
#else
  // Bytes in chunks handed out, from the arenas and from their own mappings.
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
#endif
}

}  // namespace osprey::service
