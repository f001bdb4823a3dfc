// ospreyd's memory budget (src/service/daemon/memory_budget.h), without a
// daemon: what fits, what is refused, and that every byte comes back.
#include "service/daemon/memory_budget.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <thread>
#include <vector>

namespace osprey::service {
namespace {

TEST(MemoryBudget, ReservesUpToTheLimitAndGivesBytesBackWhenAReservationEnds) {
  MemoryBudget budget(100);
  auto a = budget.reserve(60);
  ASSERT_TRUE(a);
  EXPECT_EQ(budget.used(), 60u);
  EXPECT_EQ(budget.available(), 40u);
  EXPECT_FALSE(budget.reserve(41));
  auto b = budget.reserve(40);
  ASSERT_TRUE(b);
  EXPECT_EQ(budget.available(), 0u);
  EXPECT_FALSE(budget.reserve(1));
  EXPECT_TRUE(budget.reserve(0));
  a.reset();
  EXPECT_EQ(budget.used(), 40u);
  MemoryBudget::Reservation moved = std::move(*b);
  b.reset();  // the moved-from reservation holds nothing
  EXPECT_EQ(budget.used(), 40u);
  moved = MemoryBudget::Reservation();
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryBudget, AHugeRequestIsRefusedNotWrapped) {
  MemoryBudget budget(100);
  auto a = budget.reserve(10);
  EXPECT_FALSE(budget.reserve(std::numeric_limits<uint64_t>::max()));
  EXPECT_FALSE(budget.reserve(std::numeric_limits<uint64_t>::max() - 5));
  EXPECT_EQ(budget.used(), 10u);
}

TEST(MemoryBudget, ResizeGrowsOnlyWithinTheLimitAndShrinksAlways) {
  MemoryBudget budget(100);
  auto a = budget.reserve(10);
  auto other = budget.reserve(50);
  EXPECT_TRUE(a->resize(50));
  EXPECT_EQ(budget.used(), 100u);
  EXPECT_FALSE(a->resize(51));
  EXPECT_EQ(a->bytes(), 50u);
  EXPECT_TRUE(a->resize(5));
  EXPECT_EQ(budget.used(), 55u);
  a.reset();
  other.reset();
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryBudget, ZeroMeansNoLimit) {
  MemoryBudget budget(0);
  EXPECT_EQ(budget.available(), std::numeric_limits<uint64_t>::max());
  auto a = budget.reserve(uint64_t{1} << 50);
  ASSERT_TRUE(a);
  EXPECT_EQ(budget.used(), uint64_t{1} << 50);
}

TEST(MemoryBudget, AReservationOutlivesItsBudget) {
  std::optional<MemoryBudget::Reservation> kept;
  {
    MemoryBudget budget(100);
    kept = budget.reserve(30);
  }
  kept.reset();  // releases into the state the reservation kept alive
}

TEST(MemoryBudget, ThreadsRacingForTheLastBytesNeverOverdrawIt) {
  MemoryBudget budget(1000);
  std::vector<std::thread> threads;
  std::vector<std::vector<MemoryBudget::Reservation>> held(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        if (auto r = budget.reserve(7)) held[static_cast<size_t>(t)].push_back(std::move(*r));
      }
    });
  }
  for (auto& t : threads) t.join();
  size_t granted = 0;
  for (auto& h : held) granted += h.size();
  EXPECT_EQ(granted, 1000u / 7);
  EXPECT_EQ(budget.used(), granted * 7);
  held.clear();
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryBudget, ARefusalSaysWhatWasAskedAndWhatIsLeft) {
  MemoryBudget budget(8 << 20);
  auto a = budget.reserve(7 << 20);
  EXPECT_EQ(budget.refusal(5 << 20),
            "needs 5.0 MiB; ospreyd has 1.0 MiB of its 8.0 MiB memory budget left (--max-memory)");
}

// A cgroup tree in a temporary directory: `files` maps paths under it to contents.
class FakeCgroups {
 public:
  explicit FakeCgroups(const std::vector<std::pair<std::string, std::string>>& files) {
    char dir[] = "/tmp/osprey-cgroups-XXXXXX";
    root_ = ::mkdtemp(dir) ? dir : "";
    for (const auto& [path, text] : files) {
      std::filesystem::create_directories(std::filesystem::path(root_ + path).parent_path());
      std::ofstream(root_ + path) << text << "\n";
    }
  }
  ~FakeCgroups() { std::filesystem::remove_all(root_); }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

constexpr uint64_t kGiB = uint64_t{1} << 30;

TEST(MemoryBudget, TheDefaultKeepsToTheTightestCgroupLimitOfTheProcessOrItsAncestors) {
  // cgroup v2: the service's own group has no limit, its parent 3 GiB.
  const FakeCgroups v2({{"/system.slice/memory.max", std::to_string(3 * kGiB)},
                        {"/system.slice/ospreyd.service/memory.max", "max"}});
  ASSERT_FALSE(v2.root().empty());
  EXPECT_EQ(usable_memory(24 * kGiB, "0::/system.slice/ospreyd.service\n", v2.root()), 3 * kGiB);
  // Less physical memory than the limit: the machine's.
  EXPECT_EQ(usable_memory(2 * kGiB, "0::/system.slice/ospreyd.service\n", v2.root()), 2 * kGiB);

  // cgroup v1 (a container's memory controller, beside others); v1's
  // "unlimited" is a huge number, which the machine's memory undercuts.
  const FakeCgroups v1({{"/memory/docker/abc/memory.limit_in_bytes", std::to_string(kGiB)},
                        {"/memory/memory.limit_in_bytes", "9223372036854771712"},
                        {"/cpu/docker/abc/cpu.shares", "1024"}});
  EXPECT_EQ(usable_memory(24 * kGiB, "5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n", v1.root()),
            kGiB);
  EXPECT_EQ(usable_memory(24 * kGiB, "4:memory:/\n", v1.root()), 24 * kGiB);

  // Nothing to go by (no cgroup files, junk in them, junk lines): the machine's.
  const FakeCgroups junk({{"/a/memory.max", "lots"}, {"/b/memory.max", "-5"}});
  EXPECT_EQ(usable_memory(24 * kGiB, "0::/a\n", junk.root()), 24 * kGiB);
  EXPECT_EQ(usable_memory(24 * kGiB, "0::/b\n", junk.root()), 24 * kGiB);
  EXPECT_EQ(usable_memory(24 * kGiB, "no colons\n::\n7:memory\n", junk.root()), 24 * kGiB);
  EXPECT_EQ(usable_memory(24 * kGiB, "", "/nonexistent"), 24 * kGiB);
  // This process: some budget, at most half the machine.
  EXPECT_GT(default_memory_budget(), 0u);
}

}  // namespace
}  // namespace osprey::service
