// Runs third-party code that may crash or hang on hostile input in a forked
// child, so that a crash there is an osprey::Error in the caller, not the end
// of the process that asked.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace osprey {

// Runs `work` in a child process and returns the bytes it returned. If it
// throws, the caller throws osprey::Error with the same first line. If the
// child dies (a signal, a sanitizer's report) or is still running after
// `limit` (it is then killed), the error names `what`. The child's stderr
// goes nowhere: the caller's one line is the report.
std::string run_in_child(const std::function<std::string()>& work, std::string_view what,
                         std::chrono::seconds limit);

}  // namespace osprey
