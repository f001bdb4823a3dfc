// ospreyd's structured log: one line per event on stderr, journald style.
//   <3>event=load_failed session=4 pid=1234 device=cpu-tflite error="op #17 CONV_2D: ..."
// The <N> prefix is the syslog priority (journald reads it when stderr is
// connected to the journal); the rest is key=value, values quoted when they
// contain spaces, quotes or '='.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace osprey::service {

enum LogPriority { kLogErr = 3, kLogWarning = 4, kLogNotice = 5, kLogInfo = 6, kLogDebug = 7 };

struct LogField {
  std::string_view key;
  std::string value;
};

// Events above `max_priority` (numerically) are dropped; default kLogInfo.
void set_log_level(int max_priority);
bool log_enabled(int priority);
void log_event(int priority, std::string_view event, std::initializer_list<LogField> fields);

}  // namespace osprey::service
