// libaxparameter off-camera: an app's parameters in a key file that the app,
// a developer's editor or a test can change. Every change, from any of them,
// reaches the registered callbacks the same way: through a file monitor on
// the app's GLib main context, as the camera's parameter service does.
#include <axsdk/axparameter.h>
#include <gio/gio.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace {

constexpr const char* kValues = "parameters";
constexpr const char* kTypes = "types";

struct Callback {
  AXParameterCallback* fn;
  gpointer data;
};

}  // namespace

struct _AXParameter {
  std::string app;
  std::string file;
  std::map<std::string, std::string> values, types;
  std::map<std::string, std::string> notified;  // what the callbacks were last told
  std::map<std::string, Callback> callbacks;
  GFileMonitor* monitor = nullptr;
};

namespace {

gboolean set_error(GError** error, AXParameterErrorCode code, const std::string& message) {
  g_set_error_literal(error, AX_PARAMETER_ERROR, code, message.c_str());
  return FALSE;
}

// The camera accepts both "Name" and "root.App.Name".
std::string short_name(const AXParameter* p, const gchar* name) {
  const std::string full = name;
  const std::string prefix = "root." + p->app + ".";
  return full.rfind(prefix, 0) == 0 ? full.substr(prefix.size()) : full;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name)
    if (!g_ascii_isalnum(c) && c != '_' && c != '-') return false;
  return true;
}

// The type option named KEY in "int:maxlen=3;min=0;max=100", if present.
bool type_option(const std::string& options, const std::string& key, long& out) {
  size_t at = 0;
  while (at < options.size()) {
    const size_t end = std::min(options.find(';', at), options.size());
    const std::string item = options.substr(at, end - at);
    if (item.rfind(key + "=", 0) == 0) {
      const std::string v = item.substr(key.size() + 1);
      return std::from_chars(v.data(), v.data() + v.size(), out).ec == std::errc{};
    }
    at = end + 1;
  }
  return false;
}

// Why VALUE does not fit TYPE ("" when it does): int bounds, enum and bool
// choices, and maxlen are checked; other types take any string.
std::string type_mismatch(const std::string& type, const std::string& value) {
  const size_t colon = type.find(':');
  const std::string kind = type.substr(0, colon);
  const std::string options = colon == std::string::npos ? "" : type.substr(colon + 1);
  long limit = 0;
  if (type_option(options, "maxlen", limit) && static_cast<long>(value.size()) > limit)
    return "longer than maxlen " + std::to_string(limit);
  if (kind == "int") {
    long v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc{} || end != value.data() + value.size() || value.empty()) return "not an integer";
    if (type_option(options, "min", limit) && v < limit) return "below min " + std::to_string(limit);
    if (type_option(options, "max", limit) && v > limit) return "above max " + std::to_string(limit);
  } else if (kind == "enum" || kind == "bool") {
    const char separator = kind == "enum" ? '|' : ',';
    size_t at = 0;
    while (at <= options.size()) {
      const size_t end = std::min(options.find(separator, at), options.size());
      if (options.compare(at, end - at, value) == 0 && end - at == value.size()) return "";
      at = end + 1;
    }
    return "not one of " + options;
  }
  return "";
}

gboolean save(AXParameter* p, GError** error) {
  GKeyFile* kf = g_key_file_new();
  for (const auto& [name, value] : p->values) g_key_file_set_string(kf, kValues, name.c_str(), value.c_str());
  for (const auto& [name, type] : p->types) g_key_file_set_string(kf, kTypes, name.c_str(), type.c_str());
  GError* inner = nullptr;
  // g_key_file_save_to_file writes a temporary file and renames it.
  const gboolean ok = g_key_file_save_to_file(kf, p->file.c_str(), &inner);
  g_key_file_unref(kf);
  if (!ok) {
    set_error(error, AX_PARAMETER_FILE_WRITE_ERROR, p->file + ": " + inner->message);
    g_error_free(inner);
  }
  return ok;
}

// Reads the key file into P; a missing file is an empty one.
gboolean load(AXParameter* p, GError** error) {
  GKeyFile* kf = g_key_file_new();
  GError* inner = nullptr;
  if (!g_key_file_load_from_file(kf, p->file.c_str(), G_KEY_FILE_NONE, &inner)) {
    g_key_file_unref(kf);
    const bool missing = g_error_matches(inner, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    if (!missing) set_error(error, AX_PARAMETER_FILE_FORMAT_ERROR, p->file + ": " + inner->message);
    g_error_free(inner);
    return missing;
  }
  for (auto [group, target] : {std::pair{kValues, &p->values}, std::pair{kTypes, &p->types}}) {
    target->clear();
    gsize n = 0;
    gchar** keys = g_key_file_get_keys(kf, group, &n, nullptr);
    for (gsize i = 0; keys != nullptr && i < n; ++i) {
      gchar* v = g_key_file_get_string(kf, group, keys[i], nullptr);
      if (v != nullptr) (*target)[keys[i]] = v;
      g_free(v);
    }
    g_strfreev(keys);
  }
  g_key_file_unref(kf);
  return TRUE;
}

// Adds the manifest's parameters ("acapPackageConf.configuration.paramConfig")
// that the key file does not have yet, with their defaults, as installing an
// app on a camera does. Another app's manifest is ignored.
gboolean seed_from_manifest(AXParameter* p, GError** error) {
  const char* env = std::getenv("OSPREY_ACAP_MANIFEST");
  const std::string path = env != nullptr && *env != '\0' ? env : "manifest.json";
  std::ifstream in(path);
  if (!in) {
    if (env != nullptr && *env != '\0')
      return set_error(error, AX_PARAMETER_FILE_OPEN_ERROR, path + ": cannot open");
    return TRUE;
  }
  const nlohmann::json manifest = nlohmann::json::parse(in, nullptr, false);
  if (manifest.is_discarded())
    return set_error(error, AX_PARAMETER_FILE_FORMAT_ERROR, path + ": not valid JSON");
  const auto setup_app = manifest.value(nlohmann::json::json_pointer("/acapPackageConf/setup/appName"), "");
  if (setup_app != p->app) return TRUE;
  const auto params = manifest.value(
      nlohmann::json::json_pointer("/acapPackageConf/configuration/paramConfig"), nlohmann::json::array());
  for (const auto& entry : params) {
    if (!entry.is_object() || !entry.value("name", nlohmann::json()).is_string())
      return set_error(error, AX_PARAMETER_FILE_FORMAT_ERROR, path + ": a paramConfig entry has no \"name\"");
    const std::string name = entry["name"];
    if (p->values.count(name) != 0) continue;
    p->values[name] = entry.value("default", "");
    p->types[name] = entry.value("type", "string");
  }
  return TRUE;
}

// Tells each callback about values that differ from what it last heard.
void notify_changes(AXParameter* p) {
  for (const auto& [name, value] : p->values) {
    auto seen = p->notified.find(name);
    if (seen != p->notified.end() && seen->second == value) continue;
    p->notified[name] = value;
    auto cb = p->callbacks.find(name);
    if (cb != p->callbacks.end()) cb->second.fn(name.c_str(), value.c_str(), cb->second.data);
  }
}

void on_file_changed(GFileMonitor*, GFile*, GFile*, GFileMonitorEvent event, gpointer user) {
  if (event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT && event != G_FILE_MONITOR_EVENT_CREATED &&
      event != G_FILE_MONITOR_EVENT_RENAMED && event != G_FILE_MONITOR_EVENT_MOVED_IN)
    return;
  auto* p = static_cast<AXParameter*>(user);
  // A file someone broke by hand keeps the last good values.
  if (load(p, nullptr)) notify_changes(p);
}

std::string config_dir() {
  if (const char* dir = std::getenv("OSPREY_AXPARAMETER_DIR"); dir != nullptr && *dir != '\0') return dir;
  return std::string(g_get_user_config_dir()) + "/osprey/axparameter";
}

}  // namespace

extern "C" {

GQuark ax_parameter_error_quark(void) {
  return g_quark_from_static_string("ax-parameter-error-quark");
}

AXParameter* ax_parameter_new(const gchar* app_name, GError** error) {
  if (app_name == nullptr || !valid_name(app_name)) {
    set_error(error, AX_PARAMETER_INVALID_ARG_ERROR,
              "ax_parameter_new: app_name must be letters, digits, _ or -");
    return nullptr;
  }
  const std::string dir = config_dir();
  if (g_mkdir_with_parents(dir.c_str(), 0700) != 0) {
    set_error(error, AX_PARAMETER_FILE_PATH_ERROR, dir + ": " + g_strerror(errno));
    return nullptr;
  }
  auto* p = new _AXParameter;
  p->app = app_name;
  p->file = dir + "/" + p->app + ".conf";
  if (!load(p, error) || !seed_from_manifest(p, error) || !save(p, error)) {
    delete p;
    return nullptr;
  }
  p->notified = p->values;
  GFile* file = g_file_new_for_path(p->file.c_str());
  p->monitor = g_file_monitor_file(file, G_FILE_MONITOR_WATCH_MOVES, nullptr, nullptr);
  g_object_unref(file);
  if (p->monitor != nullptr) {
    g_file_monitor_set_rate_limit(p->monitor, 100);
    g_signal_connect(p->monitor, "changed", G_CALLBACK(on_file_changed), p);
  }
  return p;
}

void ax_parameter_free(AXParameter* parameter) {
  if (parameter == nullptr) return;
  if (parameter->monitor != nullptr) {
    g_file_monitor_cancel(parameter->monitor);
    g_signal_handlers_disconnect_by_data(parameter->monitor, parameter);
    g_object_unref(parameter->monitor);
  }
  delete parameter;
}

gboolean ax_parameter_add(AXParameter* parameter, const gchar* name, const gchar* initial_value,
                          const gchar* type, GError** error) {
  if (parameter == nullptr || name == nullptr || initial_value == nullptr)
    return set_error(error, AX_PARAMETER_INVALID_ARG_ERROR, "ax_parameter_add: NULL argument");
  const std::string key = short_name(parameter, name);
  if (!valid_name(key))
    return set_error(error, AX_PARAMETER_INVALID_ARG_ERROR, "invalid parameter name '" + key + "'");
  if (!load(parameter, error)) return FALSE;
  if (parameter->values.count(key) != 0)
    return set_error(error, AX_PARAMETER_PARAM_ADDED_ERROR, "parameter '" + key + "' already exists");
  const std::string t = type != nullptr ? type : "string";
  if (const std::string why = type_mismatch(t, initial_value); !why.empty())
    return set_error(error, AX_PARAMETER_PARAM_SET_ERROR,
                     "parameter '" + key + "': '" + initial_value + "' is " + why);
  parameter->values[key] = initial_value;
  parameter->types[key] = t;
  return save(parameter, error);
}

gboolean ax_parameter_remove(AXParameter* parameter, const gchar* name, GError** error) {
  if (parameter == nullptr || name == nullptr)
    return set_error(error, AX_PARAMETER_INVALID_ARG_ERROR, "ax_parameter_remove: NULL argument");
  const std::string key = short_name(parameter, name);
  if (!load(parameter, error)) return FALSE;
  if (parameter->values.erase(key) == 0)
    return set_error(error, AX_PARAMETER_PARAM_EXIST_ERROR, "no parameter '" + key + "'");
  parameter->types.erase(key);
  parameter->notified.erase(key);
  return save(parameter, error);
}

gboolean ax_parameter_set(AXParameter* parameter, const gchar* name, const gchar* value, gboolean /*do_sync*/,
                          GError** error) {
  if (parameter == nullptr || name == nullptr || value == nullptr)
    return set_error(error, AX_PARAMETER_INVALID_ARG_ERROR, "ax_parameter_set: NULL argument");
  const std::string key = short_name(parameter, name);
  if (!load(parameter, error)) return FALSE;
  if (parameter->values.count(key) == 0)
    return set_error(error, AX_PARAMETER_PARAM_EXIST_ERROR, "no parameter '" + key + "'");
  if (const std::string why = type_mismatch(parameter->types[key], value); !why.empty())
    return set_error(error, AX_PARAMETER_PARAM_SET_ERROR,
                     "parameter '" + key + "': '" + value + "' is " + why);
  parameter->values[key] = value;
  return save(parameter, error);  // always synced: the file is the only store
}

gboolean ax_parameter_get(AXParameter* parameter, const gchar* name, gchar** value, GError** error) {
  if (parameter == nullptr || name == nullptr || value == nullptr)
    return set_error(error, AX_PARAMETER_INVALID_ARG_ERROR, "ax_parameter_get: NULL argument");
  const std::string key = short_name(parameter, name);
  if (!load(parameter, error)) return FALSE;
  const auto it = parameter->values.find(key);
  if (it == parameter->values.end())
    return set_error(error, AX_PARAMETER_PARAM_GET_ERROR,
                     "no parameter '" + key +
                         "' (add it with ax_parameter_add or the manifest's paramConfig; file " +
                         parameter->file + ")");
  *value = g_strdup(it->second.c_str());
  return TRUE;
}

GList* ax_parameter_list(AXParameter* parameter, GError** error) {
  if (parameter == nullptr) {
    set_error(error, AX_PARAMETER_INVALID_ARG_ERROR, "ax_parameter_list: NULL argument");
    return nullptr;
  }
  if (!load(parameter, error)) return nullptr;
  GList* names = nullptr;
  for (const auto& [name, value] : parameter->values) names = g_list_prepend(names, g_strdup(name.c_str()));
  return g_list_reverse(names);
}

gboolean ax_parameter_register_callback(AXParameter* parameter, const gchar* name,
                                        AXParameterCallback* callback, gpointer userdata, GError** error) {
  if (parameter == nullptr || name == nullptr || callback == nullptr)
    return set_error(error, AX_PARAMETER_INVALID_ARG_ERROR, "ax_parameter_register_callback: NULL argument");
  const std::string key = short_name(parameter, name);
  if (!load(parameter, error)) return FALSE;
  if (parameter->values.count(key) == 0)
    return set_error(error, AX_PARAMETER_PARAM_EXIST_ERROR, "no parameter '" + key + "'");
  parameter->callbacks[key] = {callback, userdata};
  return TRUE;
}

void ax_parameter_unregister_callback(AXParameter* parameter, const gchar* name) {
  if (parameter == nullptr || name == nullptr) return;
  parameter->callbacks.erase(short_name(parameter, name));
}

}  // extern "C"
