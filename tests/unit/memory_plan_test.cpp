#include <gtest/gtest.h>

#include "graph/memory_plan.h"

namespace osprey {
namespace {

bool overlap(const BufferRequest& a, const BufferRequest& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

TEST(MemoryPlan, ChainReusesMemory) {
  // a -> b -> c -> d: a and c may share, b and d may share.
  std::vector<BufferRequest> r = {{1000, -1, 0}, {1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}};
  MemoryPlan plan = plan_memory(r);
  EXPECT_EQ(plan.arena_size, 2 * 1024u);
}

TEST(MemoryPlan, LiveBuffersNeverOverlapInMemory) {
  std::vector<BufferRequest> r;
  for (int i = 0; i < 200; ++i) {
    const int first = (i * 7) % 50;
    r.push_back({static_cast<size_t>(64 + (i * 131) % 5000), first, first + (i % 9)});
  }
  MemoryPlan plan = plan_memory(r);
  size_t total = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    total += r[i].size;
    EXPECT_EQ(plan.offsets[i] % 64, 0u);
    EXPECT_LE(plan.offsets[i] + r[i].size, plan.arena_size);
    for (size_t j = 0; j < i; ++j) {
      if (!overlap(r[i], r[j])) continue;
      const bool disjoint =
          plan.offsets[i] + r[i].size <= plan.offsets[j] || plan.offsets[j] + r[j].size <= plan.offsets[i];
      EXPECT_TRUE(disjoint) << i << " and " << j;
    }
  }
  EXPECT_LT(plan.arena_size, total);
}

}  // namespace
}  // namespace osprey
