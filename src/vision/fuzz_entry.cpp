// libFuzzer entry point for the image decoders: any input must either decode
// or fail with osprey::Error; crashes, leaks and sanitizer reports are bugs.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "vision/fuzz_entry.h"
#include "vision/image_io.h"

extern "C" int osprey_fuzz_decode_image(const uint8_t* data, size_t size) {
  try {
    const osprey::vision::Image image = osprey::vision::decode_image({data, size});
    (void)image;
  } catch (const osprey::Error&) {
  }
  return 0;
}
