#include "service/client/errors.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <system_error>

#include "service/codec.h"

namespace osprey::service::client {
namespace {

// What an error is when there is no memory left to describe it.
constexpr const char* kOutOfMemory = "out of memory";
larodError g_out_of_memory{LAROD_ERROR_ALLOC, kOutOfMemory};

}  // namespace

void set_error(larodError** error, int code, const char* msg, const char* detail) noexcept {
  if (!error || *error) return;
  const size_t a = std::strlen(msg), b = detail ? std::strlen(detail) : 0;
  auto* text = static_cast<char*>(std::malloc(a + b + 1));
  auto* e = static_cast<larodError*>(std::malloc(sizeof(larodError)));
  if (!text || !e) {
    std::free(text);
    std::free(e);
    *error = &g_out_of_memory;
    return;
  }
  std::memcpy(text, msg, a);
  if (b) std::memcpy(text + a, detail, b);
  text[a + b] = '\0';
  e->code = static_cast<larodErrorCode>(code);
  e->msg = text;
  *error = e;
}

larodError* make_error(int code, const std::string& msg) noexcept {
  larodError* e = nullptr;
  set_error(&e, code, msg);
  return e;
}

void free_error(larodError* error) noexcept {
  if (!error || error == &g_out_of_memory) return;
  std::free(const_cast<char*>(error->msg));
  std::free(error);
}

bool invalid(larodError** error, const std::string& msg) noexcept {
  set_error(error, EINVAL, msg);
  return false;
}

void report_current_exception(larodError** error) noexcept {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    set_error(error, LAROD_ERROR_ALLOC, kOutOfMemory);
  } catch (const std::length_error&) {
    set_error(error, LAROD_ERROR_ALLOC, kOutOfMemory);
  } catch (const ProtocolError& e) {
    set_error(error, LAROD_ERROR_CONNECTION, "malformed reply from ospreyd: ", e.what());
  } catch (const std::system_error& e) {
    set_error(error, LAROD_ERROR_ALLOC, "out of resources: ", e.what());
  } catch (const std::exception& e) {
    set_error(error, EIO, "internal error in liblarod: ", e.what());
  } catch (...) {
    set_error(error, EIO, "internal error in liblarod");
  }
}

}  // namespace osprey::service::client
