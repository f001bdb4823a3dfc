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

// Requests of many sizes and lifetimes; some split by rows, some by bytes.
std::vector<BufferRequest> mixed_requests() {
  std::vector<BufferRequest> r;
  for (int i = 0; i < 200; ++i) {
    const int first = i % 23 == 0 ? -1 : (i * 7) % 50;  // some are the model's inputs
    const size_t rows = i % 3 == 0 ? 0 : static_cast<size_t>(1 + i % 13);
    const size_t size =
        rows ? rows * static_cast<size_t>(4 + (i * 131) % 400) : static_cast<size_t>(64 + (i * 131) % 5000);
    r.push_back({size, first, first + (i % 9), rows});
  }
  return r;
}

void expect_live_buffers_apart(const std::vector<BufferRequest>& r, const MemoryPlan& plan) {
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % 64, 0u);
    EXPECT_LE(plan.offsets[i] + r[i].size, plan.arena_size);
    for (size_t j = 0; j < i; ++j) {
      if (!overlap(r[i], r[j])) continue;
      const bool disjoint =
          plan.offsets[i] + r[i].size <= plan.offsets[j] || plan.offsets[j] + r[j].size <= plan.offsets[i];
      EXPECT_TRUE(disjoint) << i << " and " << j;
    }
  }
}

TEST(MemoryPlan, LiveBuffersNeverOverlapInMemory) {
  std::vector<BufferRequest> r;
  for (int i = 0; i < 200; ++i) {
    const int first = (i * 7) % 50;
    r.push_back({static_cast<size_t>(64 + (i * 131) % 5000), first, first + (i % 9)});
  }
  MemoryPlan plan = plan_memory(r);
  expect_live_buffers_apart(r, plan);
  size_t total = 0;
  for (const BufferRequest& request : r) total += request.size;
  EXPECT_LT(plan.arena_size, total);
}

TEST(MemoryPlan, EveryThreadCountKeepsLiveBuffersApart) {
  const std::vector<BufferRequest> r = mixed_requests();
  for (int threads : {1, 2, 3, 4}) {
    SCOPED_TRACE(threads);
    expect_live_buffers_apart(r, plan_memory(r, 64, threads));
  }
}

// A chain of image-shaped tensors, as a MobileNet's steps write them: on
// two threads no line the one thread writes was the other's last.
TEST(MemoryPlan, TwoThreadsWriteOnlyTheirOwnLines) {
  std::vector<BufferRequest> r = {{224 * 224 * 3 * 4, -1, 0, 224}};
  const size_t shapes[][2] = {{112, 112 * 32}, {112, 112 * 16}, {56, 56 * 96}, {56, 56 * 24},  {56, 56 * 144},
                              {56, 56 * 24},   {28, 28 * 144},  {28, 28 * 32}, {14, 14 * 192}, {7, 7 * 1152}};
  for (int step = 0; step < 10; ++step)
    r.push_back({shapes[step][0] * shapes[step][1] * 4, step, step + 1, shapes[step][0]});
  r[4].last_step = 6;  // a residual, read again two steps on
  r.push_back({7 * 7 * 1152 * 4, 10, 11, 7});
  const MemoryPlan compact = plan_memory(r, 64, 1);
  const MemoryPlan two = plan_memory(r, 64, 2);
  expect_live_buffers_apart(r, two);
  EXPECT_GT(foreign_writes(r, compact, 2), 1000u);
  // Only lines a part boundary cuts (one per tensor whose part ends mid-line).
  EXPECT_LE(foreign_writes(r, two, 2), r.size());
  // At a price in bytes, bounded.
  EXPECT_LE(two.arena_size, 2 * compact.arena_size);
}

TEST(MemoryPlan, ForeignWritesCountTheOtherThreadsLines) {
  // b reuses a's bytes: a's second half (thread 1) lies under b's first
  // half (thread 0), and the next inference's a writes there again.
  const std::vector<BufferRequest> r = {{1024, 0, 0, 0}, {512, 1, 1, 0}};
  MemoryPlan plan;
  plan.offsets = {0, 512};
  plan.arena_size = 1024;
  EXPECT_EQ(foreign_writes(r, plan, 2), 8u);  // lines 8-11, twice
  EXPECT_EQ(foreign_writes(r, plan, 1), 0u);
}

}  // namespace
}  // namespace osprey
