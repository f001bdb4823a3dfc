// How many bytes the process has allocated from the heap and not freed:
// what a model's load adds to it is what the model holds (packed weights,
// kernels' tables and scratch), which no component reports by itself.
#pragma once

#include <cstdint>

namespace osprey::service {

uint64_t heap_bytes_in_use();

}  // namespace osprey::service
