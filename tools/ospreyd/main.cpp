// ospreyd: the osprey ML service (Larod-compatible), see docs/service.md.
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "backends/thread_pool.h"
#include "service/daemon/log.h"
#include "service/daemon/server.h"
#include "service/protocol.h"

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "usage: ospreyd [--socket PATH] [--backend LIST] [--threads N] [--verbose] [--quiet]\n"
               "               [--max-sessions N] [--max-memory MIB] [--max-model-memory MIB]\n"
               "               [--test-hooks]\n"
               "  --socket PATH      listen here (default: $OSPREY_SOCKET, else /run/osprey/osprey.sock\n"
               "                     for root, else $XDG_RUNTIME_DIR/osprey.sock)\n"
               "  --backend LIST     cpu-tflite's backends in order: osprey-avx512, xnnpack, ref\n"
               "                     (default osprey-avx512,xnnpack; ref: the reference kernels)\n"
               "  --threads N        threads of the backend, up to %d (default 1; 0 = one per core)\n"
               "  --verbose, -v      also log every job (priority 7)\n"
               "  --quiet, -q        log warnings and errors only\n"
               "  --max-sessions N   refuse connections beyond N clients (default 256)\n"
               "  --max-memory MIB   refuse loads and allocations beyond MIB for all models and\n"
               "                     allocated tensors together (default: half the memory ospreyd\n"
               "                     may use, the machine's or its cgroup's limit: here %llu;\n"
               "                     0 = no limit)\n"
               "  --max-model-memory MIB\n"
               "                     refuse models whose tensors need more (default 1024; 0 = no limit)\n"
               "  --test-hooks       accept the test suite's pause/resume requests\n"
               "Logs go to stderr, one event per line, with <N> syslog priority prefixes.\n",
               osprey::kMaxThreads,
               static_cast<unsigned long long>(osprey::service::default_memory_budget() >> 20));
}

}  // namespace

int main(int argc, char** argv) {
  osprey::service::ServerOptions options;
  options.socket_path = osprey::service::default_socket_path();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ospreyd: %s needs a value\n", flag);
        std::exit(2);
      }
      return argv[++i];
    };
    // A whole number from `min` to `max` (atoi took "abc" for 0, one thread per core).
    auto count_value = [&](const char* flag, long min, long max) -> int {
      const std::string v = value(flag);
      char* end = nullptr;
      errno = 0;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno == ERANGE || n < min || n > max) {
        std::fprintf(stderr, "ospreyd: %s takes a whole number from %ld to %ld, not '%s'\n", flag, min, max,
                     v.c_str());
        std::exit(2);
      }
      return static_cast<int>(n);
    };
    // A number of MiB as bytes; from 2^44 MiB on the bytes would wrap.
    auto mib_value = [&](const char* flag) -> uint64_t {
      const std::string v = value(flag);
      char* end = nullptr;
      const unsigned long long mib = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || v[0] == '-' || mib >= (uint64_t{1} << 44)) {
        std::fprintf(stderr, "ospreyd: %s takes a number of MiB, not '%s'\n", flag, v.c_str());
        std::exit(2);
      }
      return static_cast<uint64_t>(mib) << 20;
    };
    if (a == "--socket") {
      options.socket_path = value("--socket");
    } else if (a == "--verbose" || a == "-v") {
      osprey::service::set_log_level(osprey::service::kLogDebug);
    } else if (a == "--quiet" || a == "-q") {
      osprey::service::set_log_level(osprey::service::kLogWarning);
    } else if (a == "--max-sessions") {
      options.max_sessions = count_value("--max-sessions", 1, INT_MAX);
    } else if (a == "--max-memory") {
      options.max_memory_bytes = mib_value("--max-memory");
    } else if (a == "--max-model-memory") {
      options.max_model_bytes = mib_value("--max-model-memory");
    } else if (a == "--backend") {
      options.backend = value("--backend");
    } else if (a == "--threads") {
      options.threads = count_value("--threads", 0, osprey::kMaxThreads);
    } else if (a == "--test-hooks") {
      options.test_hooks = true;
    } else if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "ospreyd: unknown option '%s'\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }
  return osprey::service::run_server(options);
}
