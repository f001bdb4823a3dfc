#include "backends/backend.h"

#include <algorithm>

#include "backends/avx512/avx512_backend.h"
#include "backends/thread_pool.h"
#include "backends/xnnpack/xnnpack_delegate.h"
#include "core/error.h"

namespace osprey {

namespace {

std::string known_names() {
  std::string known;
  for (const std::string& n : backend_names()) known += (known.empty() ? "" : ", ") + n;
  return known;
}

// The names of `list` in order, without the trailing "ref"; throws for a bad list.
std::vector<std::string> parse_list(const std::string& list) {
  std::vector<std::string> names;
  bool ref_seen = false;
  size_t begin = 0;
  for (;;) {
    const size_t comma = list.find(',', begin);
    const std::string name =
        list.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    if (name.empty()) fail("backend list '{}' has an empty name (known: {})", list, known_names());
    if (std::find(backend_names().begin(), backend_names().end(), name) == backend_names().end())
      fail("unknown backend '{}' (known: {})", name, known_names());
    if (ref_seen) {
      fail("backend '{}' after ref in '{}': ref runs what the others leave, so it ends the list (known: {})",
           name, list, known_names());
    }
    if (std::find(names.begin(), names.end(), name) != names.end())
      fail("backend '{}' appears twice in '{}' (known: {})", name, list, known_names());
    if (name == "ref") {
      ref_seen = true;
    } else {
      names.push_back(name);
    }
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return names;
}

}  // namespace

const std::vector<std::string>& backend_names() {
  static const std::vector<std::string> names{"osprey-avx512", "xnnpack", "ref"};
  return names;
}

BackendStack::~BackendStack() = default;

void BackendStack::fill(InterpreterOptions& options) const {
  options.backends.clear();
  for (const auto& b : backends_) options.backends.push_back(b.get());
  options.threads = threads_;
}

std::string check_backend_list(const std::string& list) {
  try {
    parse_list(list);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

BackendStack make_backends(const std::string& list, int threads) {
  OSPREY_CHECK(threads >= 0, "thread count {} must not be negative", threads);
  const std::vector<std::string> names = parse_list(list);
  if (names.empty()) return BackendStack();
  // One pool for the whole stack: its backends never run at the same time.
  std::shared_ptr<pthreadpool> pool = make_thread_pool(threads);
  BackendStack stack(pool ? resolve_threads(threads) : 1);
  for (const std::string& name : names) {
    if (name == "osprey-avx512") {
      stack.add(std::make_unique<Avx512Backend>(pool));
    } else if (name == "xnnpack") {
      XnnpackOptions options;
      options.threads = threads;
      stack.add(std::make_unique<XnnpackDelegate>(options, pool));
    }
  }
  return stack;
}

}  // namespace osprey
