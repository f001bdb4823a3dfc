#include "graph/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace osprey {

namespace {
size_t align_up(size_t n, size_t a) {
  return (n + a - 1) / a * a;
}
bool overlap(const BufferRequest& a, const BufferRequest& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}
}  // namespace

MemoryPlan plan_memory(const std::vector<BufferRequest>& requests, size_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return requests[a].size > requests[b].size; });

  std::vector<size_t> placed;
  for (size_t r : order) {
    const size_t size = align_up(std::max<size_t>(requests[r].size, 1), alignment);
    // Live neighbours sorted by offset; take the first gap that fits.
    std::vector<size_t> live;
    for (size_t p : placed) {
      if (overlap(requests[p], requests[r])) live.push_back(p);
    }
    std::sort(live.begin(), live.end(),
              [&](size_t a, size_t b) { return plan.offsets[a] < plan.offsets[b]; });
    size_t offset = 0;
    for (size_t p : live) {
      const size_t p_end = plan.offsets[p] + align_up(std::max<size_t>(requests[p].size, 1), alignment);
      if (plan.offsets[p] >= offset + size) break;
      offset = std::max(offset, p_end);
    }
    plan.offsets[r] = offset;
    plan.arena_size = std::max(plan.arena_size, offset + size);
    placed.push_back(r);
  }
  return plan;
}

}  // namespace osprey
