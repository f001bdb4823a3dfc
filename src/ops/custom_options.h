// Reading a custom op's options: a flexbuffer map (TFLite_Detection_PostProcess,
// MediaPipe's landmark ops), verified before any read, every value checked
// for its type and range, each failure one line naming the key.
#pragma once

#include <flatbuffers/flexbuffers.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"

namespace osprey::ops {

class CustomOptionReader {
 public:
  explicit CustomOptionReader(std::span<const uint8_t> bytes) : bytes_(bytes.begin(), bytes.end()) {
    OSPREY_CHECK(!bytes_.empty(), "custom options are missing (expected a flexbuffer map)");
    OSPREY_CHECK(bytes_.size() < kMaxBytes, "custom options have {} bytes, more than {}", bytes_.size(),
                 kMaxBytes);
    OSPREY_CHECK(flexbuffers::VerifyBuffer(bytes_.data(), bytes_.size()),
                 "custom options ({} bytes) are not a valid flexbuffer", bytes_.size());
    const flexbuffers::Reference root = flexbuffers::GetRoot(bytes_.data(), bytes_.size());
    OSPREY_CHECK(root.IsMap(), "custom options are a flexbuffer but not a map");
    map_ = root.AsMap();
  }

  bool has(const char* key) const { return !map_[key].IsNull(); }

  // The number under `key`; `fallback` when absent, an error when absent without one.
  double number(const char* key, std::optional<double> fallback = std::nullopt) const {
    return checked_number(map_[key], key, fallback);
  }

  // TFLite reads integers with AsInt32 (a float truncates); here only within [low, high].
  int integer(const char* key, int64_t low, int64_t high,
              std::optional<double> fallback = std::nullopt) const {
    return checked_integer(number(key, fallback), key, low, high);
  }

  float real(const char* key, std::optional<double> fallback = std::nullopt) const {
    const double d = number(key, fallback);
    OSPREY_CHECK(std::abs(d) <= std::numeric_limits<float>::max(), "custom option '{}' is {}, beyond float",
                 key, d);
    return static_cast<float>(d);
  }

  // The vector of integers under `key`, each within [low, high], at most `max_size` of them.
  std::vector<int> integers(const char* key, int64_t low, int64_t high, size_t max_size) const {
    const flexbuffers::Reference v = map_[key];
    OSPREY_CHECK(!v.IsNull(), "custom option '{}' is missing", key);
    OSPREY_CHECK(!v.IsMap() && (v.IsVector() || v.IsTypedVector() || v.IsFixedTypedVector()),
                 "custom option '{}' is {}, expected a vector", key, type_name(v));
    std::vector<int> out;
    auto read = [&](const auto& items) {
      OSPREY_CHECK(items.size() <= max_size, "custom option '{}' has {} values, more than {}", key,
                   items.size(), max_size);
      out.reserve(items.size());
      for (size_t i = 0; i < items.size(); ++i) {
        out.push_back(checked_integer(checked_number(items[i], key, std::nullopt), key, low, high));
      }
    };
    // flexbuffers reads a vector through the accessor of its own kind only.
    if (v.IsFixedTypedVector()) {
      read(v.AsFixedTypedVector());
    } else if (v.IsTypedVector()) {
      read(v.AsTypedVector());
    } else {
      read(v.AsVector());
    }
    return out;
  }

 private:
  // The flexbuffer verifier asserts at and above this size.
  static constexpr size_t kMaxBytes = 1 << 20;

  static const char* type_name(const flexbuffers::Reference& v) {
    if (v.IsString()) return "a string";
    if (v.IsMap()) return "a map";
    if (v.IsVector() || v.IsTypedVector() || v.IsFixedTypedVector()) return "a vector";
    if (v.IsBlob()) return "a blob";
    if (v.IsKey()) return "a key";
    return "not a number";
  }
  static double checked_number(const flexbuffers::Reference& v, const char* key,
                               std::optional<double> fallback) {
    if (v.IsNull()) {
      OSPREY_CHECK(fallback.has_value(), "custom option '{}' is missing", key);
      return *fallback;
    }
    OSPREY_CHECK(v.IsNumeric() || v.IsBool(), "custom option '{}' is {}, expected a number", key,
                 type_name(v));
    const double d = v.AsDouble();
    OSPREY_CHECK(std::isfinite(d), "custom option '{}' is {}, expected a finite number", key, d);
    return d;
  }
  static int checked_integer(double value, const char* key, int64_t low, int64_t high) {
    const double d = std::trunc(value);
    OSPREY_CHECK(d >= static_cast<double>(low) && d <= static_cast<double>(high),
                 "custom option '{}' is {}, expected {} to {}", key, d, low, high);
    return static_cast<int>(d);
  }

  std::vector<uint8_t> bytes_;  // a copy: flexbuffers wants its buffer for the map's lifetime
  flexbuffers::Map map_ = flexbuffers::Map::EmptyMap();
};

}  // namespace osprey::ops
