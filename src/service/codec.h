// Byte-level encoding of message bodies: Writer appends host-order integers,
// length-prefixed strings and arrays; Reader takes them back, checking every
// length against what is left and throwing ProtocolError on anything off.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace osprey::service {

constexpr size_t kMaxString = 1024;

// Thrown by Reader (and the message decoders) on a malformed message.
class ProtocolError : public std::runtime_error {
 public:
  explicit ProtocolError(const std::string& what) : std::runtime_error(what) {}
};

class Writer {
 public:
  void u8(uint8_t v) { put(&v, 1); }
  void u16(uint16_t v) { put(&v, 2); }
  void u32(uint32_t v) { put(&v, 4); }
  void i32(int32_t v) { put(&v, 4); }
  void u64(uint64_t v) { put(&v, 8); }
  void i64(int64_t v) { put(&v, 8); }
  void str(std::string_view s);
  void u64s(const std::vector<uint64_t>& v);
  void append(const Writer& other) { put(other.buf_.data(), other.buf_.size()); }
  const std::vector<uint8_t>& bytes() const { return buf_; }
  std::vector<uint8_t>& bytes() { return buf_; }

 private:
  void put(const void* p, size_t n);
  std::vector<uint8_t> buf_;
};

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  uint8_t u8() { return scalar<uint8_t>(); }
  uint16_t u16() { return scalar<uint16_t>(); }
  uint32_t u32() { return scalar<uint32_t>(); }
  int32_t i32() { return scalar<int32_t>(); }
  uint64_t u64() { return scalar<uint64_t>(); }
  int64_t i64() { return scalar<int64_t>(); }
  std::string str(size_t max = kMaxString);
  std::vector<uint64_t> u64s(size_t max);
  // A count for a list of at most `max` items each at least `min_item_bytes` long.
  uint32_t count(size_t max, size_t min_item_bytes);
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  void expect_end() const;

 private:
  void get(void* out, size_t n);
  template <typename T>
  T scalar() {
    T v;
    get(&v, sizeof v);
    return v;
  }
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace osprey::service
