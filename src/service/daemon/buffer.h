// Tensor memory in ospreyd: a file descriptor from a client (or a memfd the
// service allocated) and, when it can be mapped, its mapping.
//
// Nothing a client says about the memory is trusted: sizes come from fstat
// (or lseek for dma-bufs), every access is bounds-checked against them, and a
// file that shrinks under a running job (SIGBUS) is caught by FaultGuard
// instead of killing the daemon.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "service/daemon/memory_budget.h"
#include "service/protocol.h"

namespace osprey::service {

class Buffer {
 public:
  // A sealed memfd of `size` bytes (it cannot shrink or grow), mapped
  // read-write. Returns null and sets `error` on failure.
  static std::shared_ptr<Buffer> allocate(size_t size, const std::string& name, std::string& error);
  // Takes a client's fd. `props` are the LAROD_FD_PROP_* the client claims;
  // MAP tries mmap, READWRITE allows pread/pwrite when mapping fails.
  static std::shared_ptr<Buffer> adopt(UniqueFd fd, uint32_t props, std::string& error);
  ~Buffer();
  // Buffers alive in the process (for the STATS request and leak tests).
  static int64_t live_count();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  int fd() const { return fd_.get(); }
  uint64_t size() const { return size_; }
  uint32_t props() const { return props_; }
  // Null when the memory is accessed with pread/pwrite instead.
  uint8_t* data() const { return data_; }
  size_t mapped_size() const { return mapped_size_; }
  bool writable() const { return writable_; }
  bool sealed() const { return sealed_; }
  // Set once a job faulted on this memory (the file shrank); unusable after.
  std::atomic<bool> poisoned{false};
  // What a memfd the service allocated is charged to its memory budget.
  MemoryBudget::Reservation charge;

 private:
  Buffer();
  UniqueFd fd_;
  uint64_t size_ = 0;
  uint32_t props_ = 0;
  uint8_t* data_ = nullptr;
  size_t mapped_size_ = 0;
  bool writable_ = false;
  bool sealed_ = false;
};

// Installs the SIGBUS handler FaultGuard relies on (once, at startup).
void install_fault_handler();

// Registers memory ranges the current thread is about to touch. A SIGBUS in
// one of them replaces the range with zero pages and records the fault; the
// access then completes on the zero pages and faulted() reports it.
class FaultGuard {
 public:
  FaultGuard();
  ~FaultGuard();
  FaultGuard(const FaultGuard&) = delete;
  FaultGuard& operator=(const FaultGuard&) = delete;
  // Returns the slot index, or -1 when there is no room (then the range is
  // unprotected; callers keep ranges below kMaxRanges).
  int add(const void* begin, size_t length);
  // Bit mask of slots that faulted.
  uint64_t faulted() const;
  static constexpr int kMaxRanges = 64;
};

}  // namespace osprey::service
