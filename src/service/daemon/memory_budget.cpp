#include "service/daemon/memory_budget.h"

#include <unistd.h>

#include <cstdio>
#include <limits>

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

uint64_t default_memory_budget() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return uint64_t{1} << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size) / 2;
}

}  // namespace osprey::service
