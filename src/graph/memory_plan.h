// Static arena planning: tensors whose lifetimes do not overlap share bytes.
// Greedy by size (largest first, lowest free offset), as TFLite's planner does.
#pragma once

#include <cstddef>
#include <vector>

namespace osprey {

struct BufferRequest {
  size_t size = 0;
  int first_step = 0;  // step that writes it (-1: before the first step)
  int last_step = 0;   // last step that reads it
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per request, multiples of `alignment`
  size_t arena_size = 0;
};

MemoryPlan plan_memory(const std::vector<BufferRequest>& requests, size_t alignment = 64);

}  // namespace osprey
