#include "backends/backend.h"

#include <sched.h>
#include <unistd.h>

#include "backends/xnnpack_delegate.h"
#include "core/error.h"

namespace osprey {

const std::vector<std::string>& backend_names() {
  static const std::vector<std::string> names{"xnnpack", "ref"};
  return names;
}

int resolve_threads(int threads) {
  OSPREY_CHECK(threads >= 0, "thread count {} must not be negative", threads);
  if (threads > 0) return threads;
  // The cores this process may run on (taskset, cgroups' cpusets), else all online ones.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}

std::unique_ptr<Delegate> make_backend(const std::string& name, int threads) {
  OSPREY_CHECK(threads >= 0, "thread count {} must not be negative", threads);
  if (name == "ref") return nullptr;
  if (name == "xnnpack") {
    XnnpackOptions options;
    options.threads = threads;
    return std::make_unique<XnnpackDelegate>(options);
  }
  std::string known;
  for (const std::string& n : backend_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown backend '{}' (known: {})", name, known);
}

}  // namespace osprey
