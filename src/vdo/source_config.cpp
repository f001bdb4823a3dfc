#include "vdo/source_config.h"

#include <cstdlib>
#include <fstream>
#include <string_view>

namespace osprey::vdo {
namespace {

std::string trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const auto end = s.find_last_not_of(" \t\r");
  return std::string(s.substr(begin, end - begin + 1));
}

bool parse_bool(const std::string& value, bool& out) {
  if (value == "1" || value == "true" || value == "yes" || value == "on") return out = true, true;
  if (value == "0" || value == "false" || value == "no" || value == "off") return out = false, true;
  return false;
}

bool apply(SourceConfig& config, const std::string& key, const std::string& value, const std::string& where,
           std::string& error) {
  if (key == "source") {
    config.source = value;
    return true;
  }
  bool* flag = key == "loop" ? &config.loop : key == "realtime" ? &config.realtime : nullptr;
  if (!flag) {
    error = where + ": unknown key '" + key + "' (expected source, loop or realtime)";
    return false;
  }
  if (!parse_bool(value, *flag)) {
    error = where + ": " + key + " must be 0 or 1, not '" + value + "'";
    return false;
  }
  return true;
}

std::string config_path() {
  if (const char* p = std::getenv("OSPREY_VDO_CONFIG"); p && *p) return p;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/osprey/vdo.conf";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/osprey/vdo.conf";
  return {};
}

bool read_file(SourceConfig& config, const std::string& path, bool required, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    if (!required) return true;
    error = "cannot read OSPREY_VDO_CONFIG file " + path;
    return false;
  }
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string text = trim(line.substr(0, line.find('#')));
    if (text.empty()) continue;
    const auto eq = text.find('=');
    const std::string where = path + ":" + std::to_string(number);
    if (eq == std::string::npos) {
      error = where + ": expected key = value";
      return false;
    }
    if (!apply(config, trim(text.substr(0, eq)), trim(text.substr(eq + 1)), where, error)) return false;
  }
  config.origin = path;
  return true;
}

}  // namespace

bool load_source_config(SourceConfig& config, std::string& error) {
  const char* explicit_path = std::getenv("OSPREY_VDO_CONFIG");
  const std::string path = config_path();
  if (!path.empty() && !read_file(config, path, explicit_path && *explicit_path, error)) return false;
  const struct {
    const char* env;
    const char* key;
  } overrides[] = {
      {"OSPREY_VDO_SOURCE", "source"}, {"OSPREY_VDO_LOOP", "loop"}, {"OSPREY_VDO_REALTIME", "realtime"}};
  for (const auto& o : overrides) {
    const char* value = std::getenv(o.env);
    if (!value) continue;
    if (!apply(config, o.key, trim(value), o.env, error)) return false;
    config.origin = "the environment";
  }
  return true;
}

}  // namespace osprey::vdo
