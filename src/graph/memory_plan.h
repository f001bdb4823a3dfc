// Static arena planning: tensors whose lifetimes do not overlap share bytes.
// Greedy by size (largest first, lowest free offset), as TFLite's planner does.
//
// On two threads the plan also keeps each cache line with one thread: a
// step's two threads write the two parts of its output (core/split.h), and a
// line the other core wrote last must be fetched from it before it can be
// written. The compact plan made a third of pose_detection's written lines
// such; on the Zen 5 host whose vCPUs sat far apart, planning them away ran
// its 2-thread inferences 6-8% faster, for an arena 5-50% larger (zoo models).
#pragma once

#include <cstddef>
#include <vector>

namespace osprey {

struct BufferRequest {
  size_t size = 0;
  int first_step = 0;  // step that writes it (-1: before the first step, by the caller)
  int last_step = 0;   // last step that reads it
  // The rows its writer splits it by (core/split.h's split_rows); 0: by bytes.
  size_t rows = 0;
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per request, multiples of `alignment`
  size_t arena_size = 0;
};

// `threads`: how many threads each step is split over. With 2, tensors go
// in slots: a run of lines thread 0 writes, then one thread 1 writes, every
// tensor of the slot (their lifetimes disjoint) placed so that its first
// part ends where the second run begins. Otherwise as compact as the greedy
// order makes it.
MemoryPlan plan_memory(const std::vector<BufferRequest>& requests, size_t alignment = 64, int threads = 1);

// How many of the lines an inference writes under `plan` another thread
// wrote last, the inference before (thread t writing part t of each output;
// the caller alone the model's inputs).
size_t foreign_writes(const std::vector<BufferRequest>& requests, const MemoryPlan& plan, int threads,
                      size_t alignment = 64);

}  // namespace osprey
