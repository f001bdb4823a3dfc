#include "backends/thread_pool.h"

#include <pthreadpool.h>

#include "core/error.h"

namespace osprey {

std::shared_ptr<pthreadpool> make_thread_pool(int threads) {
  OSPREY_CHECK(threads >= 1, "a thread pool needs at least one thread, not {}", threads);
  if (threads == 1) return nullptr;
  pthreadpool* pool = pthreadpool_create(static_cast<size_t>(threads));
  if (!pool) fail("cannot create a pool of {} threads", threads);
  return std::shared_ptr<pthreadpool>(pool, [](pthreadpool* p) { pthreadpool_destroy(p); });
}

}  // namespace osprey
