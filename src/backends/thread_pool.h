// The thread pool backends split their work over (pthreadpool, as XNNPACK
// uses). One pool serves a whole backend stack.
#pragma once

#include <memory>

struct pthreadpool;

namespace osprey {

// A pool of `threads` threads, or null for 1 (run on the caller's thread).
std::shared_ptr<pthreadpool> make_thread_pool(int threads);

}  // namespace osprey
