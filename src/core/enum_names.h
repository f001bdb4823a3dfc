// An enum's spellings, listed once so that parsing, printing and the "use ..."
// hint of an error message cannot drift apart.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace osprey {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

// The name of `value`, or "?" for a value the table lacks.
template <typename E, size_t N>
const char* name_of(const EnumName<E> (&names)[N], E value) {
  for (const EnumName<E>& n : names) {
    if (n.value == value) return n.name;
  }
  return "?";
}

// The value spelled `name`, or nullopt.
template <typename E, size_t N>
std::optional<E> value_named(const EnumName<E> (&names)[N], std::string_view name) {
  for (const EnumName<E>& n : names) {
    if (name == n.name) return n.value;
  }
  return std::nullopt;
}

// "a, b or c": the choices, for error messages.
template <typename E, size_t N>
std::string choices(const EnumName<E> (&names)[N]) {
  std::string s;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) s += i + 1 == N ? " or " : ", ";
    s += names[i].name;
  }
  return s;
}

}  // namespace osprey
