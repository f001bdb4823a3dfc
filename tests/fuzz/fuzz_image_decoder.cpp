// libFuzzer target: any bytes through the JPEG/PNG decoders and EXIF handling.
#include <cstddef>
#include <cstdint>

#include "vision/fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return osprey_fuzz_decode_image(data, size);
}
