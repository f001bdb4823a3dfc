// Fuzz entry points for libFuzzer harnesses (LLVMFuzzerTestOneInput calls these).
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" int osprey_fuzz_decode_image(const uint8_t* data, size_t size);
