#include "service/daemon/log.h"

#include <unistd.h>

#include <atomic>

namespace osprey::service {

namespace {

std::atomic<int> g_max_priority{kLogInfo};

void append_value(std::string& line, std::string_view v) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) quote = true;
  }
  if (!quote) {
    line.append(v);
    return;
  }
  line.push_back('"');
  for (char c : v) {
    switch (c) {
      case '"': line.append("\\\""); break;
      case '\\': line.append("\\\\"); break;
      case '\n': line.append("\\n"); break;
      case '\r': line.append("\\r"); break;
      case '\t': line.append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char hex[] = "0123456789abcdef";
          line.append("\\x");
          line.push_back(hex[(c >> 4) & 0xf]);
          line.push_back(hex[c & 0xf]);
        } else {
          line.push_back(c);
        }
    }
  }
  line.push_back('"');
}

}  // namespace

void set_log_level(int max_priority) {
  g_max_priority.store(max_priority);
}

bool log_enabled(int priority) {
  return priority <= g_max_priority.load(std::memory_order_relaxed);
}

void log_event(int priority, std::string_view event, std::initializer_list<LogField> fields) {
  if (!log_enabled(priority)) return;
  std::string line;
  line.reserve(160);
  line.push_back('<');
  line.push_back(static_cast<char>('0' + priority));
  line.append(">event=");
  append_value(line, event);
  for (const LogField& f : fields) {
    line.push_back(' ');
    line.append(f.key);
    line.push_back('=');
    append_value(line, f.value);
  }
  line.push_back('\n');
  // One write per line keeps lines whole when threads log at once.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace osprey::service
