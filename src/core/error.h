// osprey reports every failure as an osprey::Error carrying one readable line.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace osprey {

// `text` with every byte that would not print as itself on one terminal
// line written as \xNN: control characters (newlines, escapes, C1 codes)
// and bytes outside valid UTF-8. Names read from a damaged model are any
// bytes; an error quoting one must stay one readable line.
std::string printable(std::string_view text);

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(printable(what)) {}
};

// The model's working tensors (or a kernel's tables, KernelContext::
// reserve_tables) need more than InterpreterOptions::max_tensor_bytes:
// callers that set a budget say whose budget it was.
class TensorBudgetExceeded : public Error {
 public:
  TensorBudgetExceeded(const std::string& what, size_t needed, size_t budget)
      : Error(what), needed(needed), budget(budget) {}
  size_t needed;
  size_t budget;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace osprey

// Checks a condition on untrusted input (model, image, request) and throws a
// readable osprey::Error when it does not hold.
#define OSPREY_CHECK(cond, ...)               \
  do {                                        \
    if (!(cond)) ::osprey::fail(__VA_ARGS__); \
  } while (0)
