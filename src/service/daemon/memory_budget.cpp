#include "service/daemon/memory_budget.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace osprey::service {
namespace {

std::string mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

}  // namespace

MemoryBudget::MemoryBudget(uint64_t limit_bytes) : state_(std::make_shared<State>()) {
  state_->limit = limit_bytes;
}

bool MemoryBudget::take(State& state, uint64_t bytes) {
  uint64_t used = state.used.load();
  do {
    if (state.limit > 0 && (bytes > state.limit || used > state.limit - bytes)) return false;
  } while (!state.used.compare_exchange_weak(used, used + bytes));
  return true;
}

std::optional<MemoryBudget::Reservation> MemoryBudget::reserve(uint64_t bytes) {
  if (!take(*state_, bytes)) return std::nullopt;
  return Reservation(state_, bytes);
}

uint64_t MemoryBudget::available() const {
  if (state_->limit == 0) return std::numeric_limits<uint64_t>::max();
  const uint64_t used = state_->used.load();
  return used >= state_->limit ? 0 : state_->limit - used;
}

std::string MemoryBudget::refusal(uint64_t bytes) const {
  return "needs " + mib(bytes) + "; ospreyd has " + mib(available()) + " of its " + mib(limit()) +
         " memory budget left (--max-memory)";
}

MemoryBudget::Reservation::Reservation(Reservation&& other) noexcept
    : state_(std::move(other.state_)), bytes_(other.bytes_) {
  other.bytes_ = 0;
}

MemoryBudget::Reservation& MemoryBudget::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
    bytes_ = other.bytes_;
    other.bytes_ = 0;
  }
  return *this;
}

MemoryBudget::Reservation::~Reservation() {
  release();
}

void MemoryBudget::Reservation::release() {
  if (state_) state_->used.fetch_sub(bytes_);
  state_.reset();
  bytes_ = 0;
}

bool MemoryBudget::Reservation::resize(uint64_t bytes) {
  if (!state_) return bytes == 0;
  if (bytes > bytes_) {
    if (!take(*state_, bytes - bytes_)) return false;
  } else {
    state_->used.fetch_sub(bytes_ - bytes);
  }
  bytes_ = bytes;
  return true;
}

namespace {

// The number a cgroup file holds, or nothing ("max", missing, unreadable).
std::optional<uint64_t> read_limit(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return {};
  errno = 0;
  const unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
  if (errno != 0) return {};
  return static_cast<uint64_t>(value);
}

}  // namespace

uint64_t usable_memory(uint64_t physical, const std::string& proc_self_cgroup,
                       const std::string& cgroup_root) {
  uint64_t usable = physical;
  std::istringstream lines(proc_self_cgroup);
  std::string line;
  while (std::getline(lines, line)) {
    // "hierarchy-id:controllers:path"; v2 is "0::path".
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    std::string mount, file;
    if (line.compare(0, a, "0") == 0 && controllers.empty()) {
      mount = cgroup_root;
      file = "memory.max";
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      mount = cgroup_root + "/memory";
      file = "memory.limit_in_bytes";
    } else {
      continue;
    }
    // An ancestor's limit binds its descendants too.
    while (true) {
      if (auto limit = read_limit(mount + path + "/" + file)) usable = std::min(usable, *limit);
      const size_t slash = path.rfind('/');
      if (path.empty() || slash == std::string::npos) break;
      path.erase(slash);
    }
  }
  return usable;
}

uint64_t default_memory_budget() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  const uint64_t physical = pages > 0 && page_size > 0
                                ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size)
                                : uint64_t{2} << 30;
  std::ifstream in("/proc/self/cgroup");
  std::stringstream cgroups;
  cgroups << in.rdbuf();
  return usable_memory(physical, cgroups.str(), "/sys/fs/cgroup") / 2;
}

}  // namespace osprey::service
