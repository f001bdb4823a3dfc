// Which step of which interpreter the calling thread is running. The thread
// pool keys what it learns about each parallel operation by it
// (backends/thread_pool.cpp): whether splitting that operation over the
// threads pays. A step may hold several parallel operations (an XNNPACK
// runtime runs one per operator), told apart by their order in the step.
#pragma once

#include <cstdint>

namespace osprey {

struct StepSite {
  const void* owner = nullptr;  // the interpreter; null outside any step
  uint32_t step = 0;
  uint32_t calls = 0;  // parallel operations started in this step so far
};

// The calling thread's site (thread-local).
StepSite& current_step_site();

// Marks the calling thread as running `step` of `owner` for its lifetime.
class StepSiteScope {
 public:
  StepSiteScope(const void* owner, uint32_t step) : saved_(current_step_site()) {
    current_step_site() = {owner, step, 0};
  }
  ~StepSiteScope() { current_step_site() = saved_; }
  StepSiteScope(const StepSiteScope&) = delete;
  StepSiteScope& operator=(const StepSiteScope&) = delete;

 private:
  StepSite saved_;
};

}  // namespace osprey
