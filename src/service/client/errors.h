// How liblarod reports failures: larodError values, and guarded(), the
// wrapper of every C entry point, which turns whatever the body throws into
// a LAROD_ERROR_* so no exception ever crosses the C ABI.
#pragma once

#include <string>

#include "larod.h"

namespace osprey::service::client {

// Sets *error (unless error is null or already set: an earlier error is never
// overwritten or leaked). Never throws; out of memory, it stores a static
// LAROD_ERROR_ALLOC error that larodClearError knows not to free.
void set_error(larodError** error, int code, const char* msg, const char* detail = nullptr) noexcept;
inline void set_error(larodError** error, int code, const std::string& msg) noexcept {
  set_error(error, code, msg.c_str());
}
larodError* make_error(int code, const std::string& msg) noexcept;
// Frees an error set_error made (the static one is left alone).
void free_error(larodError* error) noexcept;

// A bad argument: EINVAL, as Larod reports it. Returns false for `return invalid(...)`.
bool invalid(larodError** error, const std::string& msg) noexcept;

// Reports the exception being handled as *error: std::bad_alloc (and
// length_error) as LAROD_ERROR_ALLOC, a malformed reply (ProtocolError) as
// LAROD_ERROR_CONNECTION, a failure to make a thread or mutex as
// LAROD_ERROR_ALLOC, anything else as EIO ("internal error").
void report_current_exception(larodError** error) noexcept;

// The body of a C entry point: returns body(), or `failed` with *error set
// when it throws.
template <class R, class F>
R guarded(larodError** error, R failed, F&& body) noexcept {
  try {
    return body();
  } catch (...) {
    report_current_exception(error);
    return failed;
  }
}
// Entry points that return bool or a pointer fail with false / null.
template <class F>
auto guarded(larodError** error, F&& body) noexcept -> decltype(body()) {
  using R = decltype(body());
  return guarded<R>(error, R{}, static_cast<F&&>(body));
}
// Entry points without an error argument (the destroy functions).
template <class F>
void guarded_void(F&& body) noexcept {
  try {
    body();
  } catch (...) {
  }
}

}  // namespace osprey::service::client
