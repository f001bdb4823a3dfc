#include "graph/memory_plan.h"

#include <algorithm>
#include <numeric>

#include "core/split.h"

namespace osprey {

namespace {

size_t align_up(size_t n, size_t a) {
  return (n + a - 1) / a * a;
}
size_t padded_size(const BufferRequest& r, size_t alignment) {
  return align_up(std::max<size_t>(r.size, 1), alignment);
}
bool overlap(const BufferRequest& a, const BufferRequest& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

std::vector<size_t> largest_first(const std::vector<BufferRequest>& requests) {
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return requests[a].size > requests[b].size; });
  return order;
}

// The first byte of thread t's part of request r: the caller writes the
// model's inputs alone.
size_t part_begin(const BufferRequest& r, int threads, int t) {
  if (r.first_step < 0) return t == 0 ? 0 : r.size;
  if (r.rows == 0 || r.size % r.rows != 0) return share_begin(r.size, threads, t);
  return share_begin(r.rows, threads, t) * (r.size / r.rows);
}

MemoryPlan plan_compact(const std::vector<BufferRequest>& requests, size_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> placed;
  for (size_t r : largest_first(requests)) {
    const size_t size = padded_size(requests[r], alignment);
    // Live neighbours sorted by offset; take the first gap that fits.
    std::vector<size_t> live;
    for (size_t p : placed) {
      if (overlap(requests[p], requests[r])) live.push_back(p);
    }
    std::sort(live.begin(), live.end(),
              [&](size_t a, size_t b) { return plan.offsets[a] < plan.offsets[b]; });
    size_t offset = 0;
    for (size_t p : live) {
      const size_t p_end = plan.offsets[p] + padded_size(requests[p], alignment);
      if (plan.offsets[p] >= offset + size) break;
      offset = std::max(offset, p_end);
    }
    plan.offsets[r] = offset;
    plan.arena_size = std::max(plan.arena_size, offset + size);
    placed.push_back(r);
  }
  return plan;
}

MemoryPlan plan_two_threads(const std::vector<BufferRequest>& requests, size_t alignment) {
  struct Slot {
    size_t first = 0, second = 0;  // bytes of thread 0's run and of thread 1's
    std::vector<size_t> members;
  };
  // The bytes of a request before and after the boundary.
  auto sides = [&](size_t r) {
    const size_t first = align_up(part_begin(requests[r], 2, 1), alignment);
    return std::pair<size_t, size_t>{first, std::max(padded_size(requests[r], alignment), first) - first};
  };
  std::vector<Slot> slots;
  for (size_t r : largest_first(requests)) {
    const auto [first, second] = sides(r);
    // The slot it grows least, if that is less than a slot of its own.
    size_t best = slots.size(), best_growth = first + second;
    for (size_t i = 0; i < slots.size(); ++i) {
      const Slot& slot = slots[i];
      if (std::any_of(slot.members.begin(), slot.members.end(),
                      [&](size_t m) { return overlap(requests[m], requests[r]); }))
        continue;
      const size_t growth =
          std::max(slot.first, first) - slot.first + std::max(slot.second, second) - slot.second;
      if (growth < best_growth || (growth == best_growth && best == slots.size())) {
        best = i;
        best_growth = growth;
      }
    }
    if (best == slots.size()) slots.emplace_back();
    Slot& slot = slots[best];
    slot.first = std::max(slot.first, first);
    slot.second = std::max(slot.second, second);
    slot.members.push_back(r);
  }
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  for (const Slot& slot : slots) {
    const size_t boundary = plan.arena_size + slot.first;
    for (size_t m : slot.members) plan.offsets[m] = boundary - sides(m).first;
    plan.arena_size = boundary + slot.second;
  }
  return plan;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<BufferRequest>& requests, size_t alignment, int threads) {
  return threads == 2 ? plan_two_threads(requests, alignment) : plan_compact(requests, alignment);
}

size_t foreign_writes(const std::vector<BufferRequest>& requests, const MemoryPlan& plan, int threads,
                      size_t alignment) {
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return requests[a].first_step < requests[b].first_step; });
  std::vector<int> owner(plan.arena_size / alignment + 1, -1);
  size_t foreign = 0;
  for (int inference = 0; inference < 2; ++inference) {
    for (size_t r : order) {
      for (int t = 0; t < threads; ++t) {
        const size_t first = plan.offsets[r] + part_begin(requests[r], threads, t);
        const size_t last = plan.offsets[r] + part_begin(requests[r], threads, t + 1);
        for (size_t line = first / alignment; line < (last + alignment - 1) / alignment; ++line) {
          if (inference == 1 && owner[line] >= 0 && owner[line] != t) ++foreign;
          owner[line] = t;
        }
      }
    }
  }
  return foreign;
}

}  // namespace osprey
