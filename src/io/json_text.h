// JSON as osprey prints and writes it. Strings from a model file or a path
// are any bytes; bytes that are not UTF-8 become U+FFFD rather than fail
// the command with nlohmann's "invalid UTF-8 byte" (its default throws).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace osprey {

// `indent` as nlohmann::json::dump: -1 for one line. A template, so that an
// ordered_json keeps its key order (converted to json, it would be sorted).
template <typename Json>
std::string json_text(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace osprey
