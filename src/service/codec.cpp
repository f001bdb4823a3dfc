#include "service/codec.h"

#include <cstring>

namespace osprey::service {

void Writer::put(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  buf_.insert(buf_.end(), b, b + n);
}

void Writer::str(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  put(s.data(), s.size());
}

void Writer::u64s(const std::vector<uint64_t>& v) {
  u32(static_cast<uint32_t>(v.size()));
  for (uint64_t x : v) u64(x);
}

void Reader::get(void* out, size_t n) {
  if (remaining() < n) throw ProtocolError("message ends early");
  std::memcpy(out, p_, n);
  p_ += n;
}

std::string Reader::str(size_t max) {
  uint32_t n = u32();
  if (n > max)
    throw ProtocolError("string of " + std::to_string(n) + " bytes exceeds the limit of " +
                        std::to_string(max));
  if (n > remaining()) throw ProtocolError("string runs past the end of the message");
  std::string s(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  if (s.find('\0') != std::string::npos) throw ProtocolError("string contains a NUL byte");
  return s;
}

uint32_t Reader::count(size_t max, size_t min_item_bytes) {
  uint32_t n = u32();
  if (n > max)
    throw ProtocolError("count " + std::to_string(n) + " exceeds the limit of " + std::to_string(max));
  if (min_item_bytes > 0 && static_cast<uint64_t>(n) * min_item_bytes > remaining()) {
    throw ProtocolError("count " + std::to_string(n) + " runs past the end of the message");
  }
  return n;
}

std::vector<uint64_t> Reader::u64s(size_t max) {
  uint32_t n = count(max, 8);
  std::vector<uint64_t> v(n);
  for (auto& x : v) x = u64();
  return v;
}

void Reader::expect_end() const {
  if (remaining() != 0) throw ProtocolError(std::to_string(remaining()) + " unexpected trailing bytes");
}

}  // namespace osprey::service
