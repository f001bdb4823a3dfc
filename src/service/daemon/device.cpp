#include "service/daemon/device.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>

#include "core/error.h"
#include "service/daemon/session.h"

namespace osprey::service {

Device::~Device() {
  stop();
}

void Device::start(Completion completion) {
  completion_ = std::move(completion);
  thread_ = std::thread([this] { worker(); });
}

void Device::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Device::submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    job.seq = next_seq_++;
    queue_.push_back(std::move(job));
    std::push_heap(queue_.begin(), queue_.end(), later);
  }
  cv_.notify_one();
}

bool Device::try_run_inline(Job& job) {
  constexpr uint64_t kInlineMaxMicros = 2000;
  const uint64_t mean = job.model->model->mean_us.load(std::memory_order_relaxed);
  if (mean == 0 || mean > kInlineMaxMicros) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (busy_ || paused_ || stopping_ || !queue_.empty()) return false;
    busy_ = true;
  }
  execute(job);
  {
    std::lock_guard<std::mutex> lock(mu_);
    busy_ = false;
  }
  cv_.notify_all();
  return true;
}

size_t Device::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void Device::pause() {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = true;
}

void Device::resume() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = false;
  }
  cv_.notify_all();
}

void Device::worker() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || (!paused_ && !busy_ && !queue_.empty()); });
      if (stopping_) {
        // Jobs still queued end with an error; their sessions are going away.
        while (!queue_.empty()) {
          std::pop_heap(queue_.begin(), queue_.end(), later);
          Job j = std::move(queue_.back());
          queue_.pop_back();
          lock.unlock();
          completion_(j, wire::kErrJob, "ospreyd is shutting down");
          lock.lock();
        }
        return;
      }
      std::pop_heap(queue_.begin(), queue_.end(), later);
      job = std::move(queue_.back());
      queue_.pop_back();
      busy_ = true;
    }
    execute(job);
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_ = false;
    }
  }
}

namespace {

// Moves all n bytes at `offset` with ::pread or ::pwrite, resuming short transfers.
template <typename Byte, typename Io>
bool transfer_all(Io io, int fd, Byte* p, size_t n, uint64_t offset) {
  while (n > 0) {
    ssize_t r = io(fd, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

bool pread_all(int fd, uint8_t* p, size_t n, uint64_t offset) {
  return transfer_all(::pread, fd, p, n, offset);
}
bool pwrite_all(int fd, const uint8_t* p, size_t n, uint64_t offset) {
  return transfer_all(::pwrite, fd, p, n, offset);
}

}  // namespace

void Device::execute(Job& job) {
  if (job.session->closed.load()) {
    completion_(job, wire::kErrConnection, "the client disconnected before the job ran");
    return;
  }
  if (job.model->deleted.load()) {
    completion_(job, wire::kErrModelNotFound,
                "model " + std::to_string(job.model->id) + " was deleted before the job ran");
    return;
  }
  int32_t status = wire::kOk;
  std::string message;
  try {
    std::deque<std::vector<uint8_t>> staging;  // for fds without a mapping (pread/pwrite)
    std::vector<IoSpan> in(job.inputs.size()), out(job.outputs.size());
    std::vector<Buffer*> slot_buffer;
    FaultGuard guard;
    auto prepare = [&](JobTensor& t, IoSpan& span, bool is_output, size_t index) {
      Buffer& b = *t.buffer;
      const char* side = is_output ? "output" : "input";
      if (b.poisoned.load()) {
        throw ServiceError(wire::kErrFd,
                           std::string(side) + " " + std::to_string(index) +
                               ": its memory vanished in an earlier job (the file was truncated)");
      }
      span.size = static_cast<size_t>(t.length);
      span.ref = &t.ref;
      if (b.data()) {
        int slot = guard.add(b.data(), b.mapped_size());
        if (slot >= 0) {
          if (slot_buffer.size() <= static_cast<size_t>(slot))
            slot_buffer.resize(static_cast<size_t>(slot) + 1);
          slot_buffer[static_cast<size_t>(slot)] = &b;
        }
        span.data = b.data() + t.offset;
      } else {
        staging.emplace_back(span.size);
        span.data = staging.back().data();
        if (!is_output && !pread_all(b.fd(), span.data, span.size, t.offset)) {
          throw ServiceError(wire::kErrFd,
                             std::string(side) + " " + std::to_string(index) +
                                 ": reading the tensor from its fd failed: " + std::strerror(errno));
        }
      }
    };
    for (size_t i = 0; i < in.size(); ++i) prepare(job.inputs[i], in[i], false, i);
    for (size_t i = 0; i < out.size(); ++i) prepare(job.outputs[i], out[i], true, i);

    const auto start = std::chrono::steady_clock::now();
    job.model->model->run(in, out, job.params);
    const auto us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
            .count());
    LoadedModel& lm = *job.model->model;
    const uint64_t old = lm.mean_us.load(std::memory_order_relaxed);
    lm.mean_us.store(old == 0 ? std::max<uint64_t>(us, 1) : std::max<uint64_t>((old * 7 + us) / 8, 1),
                     std::memory_order_relaxed);

    if (uint64_t bad = guard.faulted()) {
      for (size_t s = 0; s < slot_buffer.size(); ++s) {
        if ((bad >> s) & 1) slot_buffer[s]->poisoned = true;
      }
      throw ServiceError(wire::kErrFd,
                         "tensor memory vanished during the job (the file behind a tensor fd was truncated)");
    }
    for (size_t i = 0; i < out.size(); ++i) {
      Buffer& b = *job.outputs[i].buffer;
      if (!b.data() && !pwrite_all(b.fd(), out[i].data, out[i].size, job.outputs[i].offset)) {
        throw ServiceError(
            wire::kErrFd,
            "output " + std::to_string(i) + ": writing the tensor to its fd failed: " + std::strerror(errno));
      }
    }
  } catch (const ServiceError& e) {
    status = e.status();
    message = e.what();
  } catch (const osprey::Error& e) {
    status = wire::kErrJob;
    message = e.what();
  } catch (const std::bad_alloc&) {
    status = wire::kErrJob;
    message = "out of memory while running the job";
  } catch (const std::exception& e) {
    status = wire::kErrJob;
    message = e.what();
  }
  completion_(job, status, message);
}

}  // namespace osprey::service
