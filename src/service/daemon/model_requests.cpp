// The model table: LOAD_MODEL (with executables shared between identical
// loads), GET_MODEL, GET_MODELS, DELETE_MODEL, and what a session may see.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "core/error.h"
#include "runtime/interpreter.h"
#include "service/daemon/log.h"
#include "service/daemon/server_internal.h"

namespace osprey::service {
namespace {

std::string errno_str(int e) {
  return std::strerror(e);
}

// The size of the model file behind `fd` (a regular file only: reading a pipe
// could block the session forever).
uint64_t model_file_size(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0)
    throw ServiceError(wire::kErrLoadModel, "cannot stat the model fd: " + errno_str(errno));
  if (!S_ISREG(st.st_mode)) throw ServiceError(wire::kErrLoadModel, "the model fd is not a regular file");
  if (st.st_size == 0) throw ServiceError(wire::kErrLoadModel, "the model file is empty");
  if (static_cast<uint64_t>(st.st_size) > kMaxModelFileBytes) {
    throw ServiceError(wire::kErrLoadModel, "the model file has " + str(static_cast<uint64_t>(st.st_size)) +
                                                " bytes, more than the limit of " + str(kMaxModelFileBytes));
  }
  return static_cast<uint64_t>(st.st_size);
}

// Reads at most `size` bytes of the model file behind `fd`.
std::vector<uint8_t> read_model_file(int fd, uint64_t size) {
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ServiceError(wire::kErrLoadModel, "reading the model file failed: " + errno_str(errno));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  if (bytes.empty()) throw ServiceError(wire::kErrLoadModel, "the model file is empty");
  return bytes;
}

std::string content_key(const std::string& device, const std::vector<uint8_t>* bytes,
                        const ParamMap& params) {
  uint64_t fnv = 1469598103934665603ull;
  size_t n = 0;
  if (bytes) {
    for (uint8_t b : *bytes) fnv = (fnv ^ b) * 1099511628211ull;
    n = bytes->size();
  }
  const size_t h2 = bytes ? std::hash<std::string_view>()(
                                std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()))
                          : 0;
  std::string key = device + "|" + str(fnv) + "|" + str(h2) + "|" + str(n);
  for (const auto& [k, v] : params) key += "|" + k + "=" + std::to_string(v.type) + ":" + map_value_str(v);
  return key;
}

}  // namespace

bool Server::visible_to(const ModelHandle& h, const Session& s) {
  return h.owner_session == s.id || h.access == wire::kAccessPublic ||
         (h.access == wire::kAccessUserProtected && h.owner_uid == s.uid);
}

std::shared_ptr<ModelHandle> Server::find_model(const Session& s, uint64_t id) {
  std::lock_guard<std::mutex> lock(models_mu_);
  auto it = models_.find(id);
  if (it == models_.end()) return nullptr;
  // Other sessions' private models do not exist for s.
  return visible_to(*it->second, s) ? it->second : nullptr;
}

int Server::free_models_of(const Session& s) {
  std::lock_guard<std::mutex> lock(models_mu_);
  int freed = 0;
  for (auto it = models_.begin(); it != models_.end();) {
    if (it->second->owner_session == s.id) {
      it->second->deleted = true;
      it = models_.erase(it);
      ++freed;
    } else {
      ++it;
    }
  }
  return freed;
}

ModelInfo Server::info_of(const ModelHandle& h) {
  ModelInfo info;
  info.id = h.id;
  info.name = h.name;
  info.device = h.device->name();
  info.instance = h.device->instance();
  info.access = h.access;
  info.size = h.model->size;
  info.inputs = h.model->inputs;
  info.outputs = h.model->outputs;
  return info;
}

std::shared_ptr<LoadedModel> Server::load_or_share(Device& device, const LoadModelRequest& req, int fd,
                                                   bool& shared) {
  // Loads take turns, from reading the file until the model is charged:
  // each is prepared against the budget really left (two at once could each
  // allocate all of it before either is charged), measures its own heap
  // (TfliteDevice), and the same bytes loaded twice at once are loaded once
  // and shared.
  std::lock_guard<std::mutex> loading(loading_mu_);
  // The file is charged to the memory budget while it is read and prepared;
  // the model then carries the charge for all it holds (LoadedModel::memory).
  const uint64_t file_size = req.has_fd ? model_file_size(fd) : 0;
  std::optional<MemoryBudget::Reservation> charge = budget_.reserve(file_size);
  if (!charge) throw ServiceError(wire::kErrLoadModel, "the model file " + budget_.refusal(file_size));
  std::vector<uint8_t> bytes;
  if (req.has_fd) bytes = read_model_file(fd, file_size);
  std::vector<uint8_t>* bytes_ptr = req.has_fd ? &bytes : nullptr;
  const std::string key = content_key(device.label(), bytes_ptr, req.params);
  {
    std::lock_guard<std::mutex> lock(models_mu_);
    auto it = model_cache_.find(key);
    if (it != model_cache_.end()) {
      if (auto model = it->second.lock()) {
        shared = true;
        return model;
      }
    }
  }

  const uint64_t per_model = options_.max_model_bytes;  // 0: no limit
  const uint64_t left = budget_.available();
  const bool budget_tighter = budget_.limit() > 0 && (per_model == 0 || left < per_model);
  const uint64_t limit = budget_tighter ? std::max<uint64_t>(left, 1) : per_model;
  std::shared_ptr<LoadedModel> model;
  try {
    model = device.load(bytes_ptr, req.params, req.name.empty() ? "model" : req.name, limit);
  } catch (const TensorBudgetExceeded& e) {
    if (!budget_tighter)
      throw ServiceError(wire::kErrLoadModel, std::string(e.what()) + " (--max-model-memory)");
    throw ServiceError(wire::kErrLoadModel, "the model's working memory " + budget_.refusal(e.needed));
  }
  // Buffers allocated meanwhile may have taken what the limit assumed.
  if (!charge->resize(model->memory)) {
    throw ServiceError(wire::kErrLoadModel, "the loaded model (working tensors, packed weights) " +
                                                budget_.refusal(model->memory - charge->bytes()));
  }
  model->charge = std::move(*charge);
  std::lock_guard<std::mutex> lock(models_mu_);
  for (auto it = model_cache_.begin(); it != model_cache_.end();) {
    it = it->second.expired() ? model_cache_.erase(it) : std::next(it);
  }
  model_cache_[key] = model;
  return model;
}

void Server::on_load_model(Session& s, Message& m) {
  const auto req = decode<LoadModelRequest>(m);
  if (m.fds.size() != (req.has_fd ? 1u : 0u))
    throw ProtocolError("LOAD_MODEL fd count does not match its flag");
  const std::string& device_name = req.device.name;
  const uint32_t instance = req.device.instance;

  auto fail_load = [&](int32_t status, const std::string& error) {
    log_event(kLogErr, "load_failed",
              {{"session", str(s.id)},
               {"pid", str(static_cast<uint64_t>(s.pid))},
               {"device", device_name + ":" + str(instance)},
               {"name", req.name},
               {"code", status_name(status)},
               {"error", error}});
    reply_error(s, m, status, error);
  };

  if (req.access != wire::kAccessPrivate && req.access != wire::kAccessPublic &&
      req.access != wire::kAccessUserProtected) {
    return fail_load(wire::kErrInvalidAccess, "invalid access mode " + str(req.access));
  }
  Device* device = find_device(device_name, instance);
  if (!device) {
    std::string known;
    for (auto& d : devices_) append_item(known, d->label());
    return fail_load(wire::kErrInvalidChipId, "no device '" + device_name + "' instance " + str(instance) +
                                                  " (devices: " + known + ")");
  }
  {
    std::lock_guard<std::mutex> lock(models_mu_);
    size_t owned = 0;
    for (auto& [id, h] : models_) owned += h->owner_session == s.id;
    if (owned >= kMaxModelsPerSession) {
      return fail_load(wire::kErrLoadModel,
                       "the session already has " + str(owned) + " models loaded (the limit)");
    }
  }

  std::shared_ptr<LoadedModel> model;
  bool shared = false;
  try {
    model = load_or_share(*device, req, req.has_fd ? m.fds[0].get() : -1, shared);
  } catch (const ServiceError& e) {
    return fail_load(e.status(), e.what());
  } catch (const osprey::Error& e) {
    return fail_load(wire::kErrLoadModel, e.what());
  } catch (const std::bad_alloc&) {
    return fail_load(wire::kErrLoadModel, "out of memory while loading the model");
  }
  if (model->inputs.size() > kMaxTensors || model->outputs.size() > kMaxTensors) {
    return fail_load(wire::kErrLoadModel, "the model has " + str(model->inputs.size()) + " inputs and " +
                                              str(model->outputs.size()) +
                                              " outputs; the service handles at most " + str(kMaxTensors) +
                                              " each");
  }

  auto h = std::make_shared<ModelHandle>();
  h->name = req.name;
  h->access = req.access;
  h->owner_session = s.id;
  h->owner_uid = s.uid;
  h->device = device;
  h->model = model;
  {
    std::lock_guard<std::mutex> lock(models_mu_);
    h->id = next_model_id_++;
    models_[h->id] = h;
  }
  log_event(kLogInfo, "model_loaded",
            {{"session", str(s.id)},
             {"model", str(h->id)},
             {"name", req.name},
             {"device", device->label()},
             {"access", str(req.access)},
             {"bytes", str(model->size)},
             {"memory", str(model->memory)},
             {"shared", shared ? "yes" : "no"}});
  reply_ok(s, m, info_of(*h));
}

void Server::on_get_models(Session& s, const Message& m) {
  decode<GetModelsRequest>(m);
  GetModelsReply reply;
  {
    std::lock_guard<std::mutex> lock(models_mu_);
    for (auto& [id, h] : models_) {
      if (visible_to(*h, s)) reply.models.push_back(info_of(*h));
    }
  }
  reply_ok(s, m, reply);
}

void Server::on_get_model(Session& s, const Message& m) {
  const auto req = decode<GetModelRequest>(m);
  auto h = find_model(s, req.model_id);
  if (!h) return reply_error(s, m, wire::kErrModelNotFound, "no model with id " + str(req.model_id));
  reply_ok(s, m, info_of(*h));
}

void Server::on_delete_model(Session& s, const Message& m) {
  const uint64_t id = decode<DeleteModelRequest>(m).model_id;
  std::lock_guard<std::mutex> lock(models_mu_);
  auto it = models_.find(id);
  if (it == models_.end() || !visible_to(*it->second, s))
    return reply_error(s, m, wire::kErrModelNotFound, "no model with id " + str(id));
  if (it->second->owner_session != s.id && it->second->access == wire::kAccessUserProtected &&
      it->second->owner_uid != s.uid) {
    return reply_error(s, m, wire::kErrPermission, "model " + str(id) + " belongs to another user");
  }
  it->second->deleted = true;
  log_event(kLogInfo, "model_deleted",
            {{"session", str(s.id)}, {"model", str(id)}, {"name", it->second->name}});
  models_.erase(it);
  reply_ok(s, m, NoFields{});
}

}  // namespace osprey::service
