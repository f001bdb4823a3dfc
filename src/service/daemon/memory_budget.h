// ospreyd's memory budget across all sessions (--max-memory): the models it
// has loaded and the tensor memory it allocated for clients. Each session
// has its own limits, but many untrusted clients that each stay under them
// could still exhaust the host together; a load or an allocation that would
// pass this budget is refused before anything is allocated.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace osprey::service {

class MemoryBudget {
  struct State {
    uint64_t limit = 0;  // 0: no limit
    std::atomic<uint64_t> used{0};
  };

 public:
  // Bytes held against the budget until it is destroyed. It keeps the
  // budget's state alive: a job may hold a buffer after the server is gone.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&& other) noexcept;
    ~Reservation();
    uint64_t bytes() const { return bytes_; }
    // Holds `bytes` instead; false (and unchanged) when growing does not fit.
    bool resize(uint64_t bytes);

   private:
    friend class MemoryBudget;
    Reservation(std::shared_ptr<State> state, uint64_t bytes) : state_(std::move(state)), bytes_(bytes) {}
    void release();
    std::shared_ptr<State> state_;
    uint64_t bytes_ = 0;
  };

  explicit MemoryBudget(uint64_t limit_bytes);  // 0: no limit
  // Holds `bytes`, or nothing when they do not fit.
  std::optional<Reservation> reserve(uint64_t bytes);
  uint64_t limit() const { return state_->limit; }
  uint64_t used() const { return state_->used.load(); }
  // What is left; UINT64_MAX without a limit.
  uint64_t available() const;
  // "needs 5.0 MiB; ospreyd has 1.2 MiB of its 8.0 MiB memory budget left
  // (--max-memory)": why `bytes` were refused.
  std::string refusal(uint64_t bytes) const;

 private:
  static bool take(State& state, uint64_t bytes);
  std::shared_ptr<State> state_;
};

// The memory a process may use: `physical`, or less where a memory cgroup of
// the process or of an ancestor sets a limit (v2 memory.max, v1
// memory.limit_in_bytes), as a container or a systemd MemoryMax= does.
// `proc_self_cgroup` is the text of /proc/self/cgroup; `cgroup_root` where
// the hierarchies are mounted (/sys/fs/cgroup).
uint64_t usable_memory(uint64_t physical, const std::string& proc_self_cgroup,
                       const std::string& cgroup_root);

// Half the memory this process may use: ospreyd's default budget.
uint64_t default_memory_budget();

}  // namespace osprey::service
