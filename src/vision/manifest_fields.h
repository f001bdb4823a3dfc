// Reads the fields of one JSON object from zoo/models.json. Every error is one
// line naming the model and the field ("face_x.head.decoder: missing field
// 'num_boxes'"), so a bad manifest entry is found without a debugger.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace osprey::vision {

class ManifestFields {
 public:
  // `path` names `node` in errors: the model name, then ".head", ...
  ManifestFields(const nlohmann::json& node, std::string path) : node_(node), path_(std::move(path)) {
    OSPREY_CHECK(node_.is_object(), "{}: expected an object", path_);
  }

  const std::string& path() const { return path_; }
  bool has(const char* key) const { return node_.contains(key); }

  ManifestFields child(const char* key) const {
    OSPREY_CHECK(node_.contains(key), "{}: missing field '{}'", path_, key);
    const nlohmann::json& c = node_.at(key);
    OSPREY_CHECK(c.is_object(), "{}.{}: expected an object", path_, key);
    return ManifestFields(c, path_ + "." + key);
  }

  // The objects of the array under `key` (empty when absent).
  std::vector<ManifestFields> children(const char* key) const {
    std::vector<ManifestFields> out;
    if (!node_.contains(key)) return out;
    const nlohmann::json& list = node_.at(key);
    OSPREY_CHECK(list.is_array(), "{}.{}: expected an array", path_, key);
    for (size_t i = 0; i < list.size(); ++i)
      out.emplace_back(list[i], fmt::format("{}.{}[{}]", path_, key, i));
    return out;
  }

  template <typename T>
  T get(const char* key) const {
    OSPREY_CHECK(node_.contains(key), "{}: missing field '{}'", path_, key);
    return convert<T>(node_.at(key), key);
  }
  template <typename T>
  T get(const char* key, T fallback) const {
    return node_.contains(key) ? convert<T>(node_.at(key), key) : fallback;
  }

 private:
  // Wraps nlohmann's type errors with the path of the field being read.
  template <typename T>
  T convert(const nlohmann::json& value, const char* key) const {
    try {
      return value.get<T>();
    } catch (const nlohmann::json::exception& e) {
      fail("{}.{}: {}", path_, key, e.what());
    }
  }

  const nlohmann::json& node_;
  std::string path_;
};

}  // namespace osprey::vision
