// C API: loading, listing, describing and deleting models.
#include <fcntl.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "service/client/handles.h"

using namespace osprey::service;
using namespace osprey::service::client;

namespace {

// Checks the arguments of larodLoadModel(Async) and describes the request.
bool load_request(larodConnection* conn, int fd, const larodDevice* dev, larodAccess access, const char* name,
                  const larodMap* params, LoadModelRequest& req, std::vector<int>& fds, larodError** error) {
  if (!conn) return invalid(error, "conn is NULL");
  if (!dev) return invalid(error, "dev is NULL");
  if (access != LAROD_ACCESS_PRIVATE && access != LAROD_ACCESS_PUBLIC &&
      access != LAROD_ACCESS_USER_PROTECTED) {
    set_error(error, LAROD_ERROR_INVALID_ACCESS,
              "invalid access mode " + std::to_string(static_cast<int>(access)));
    return false;
  }
  if (name && std::strlen(name) > kMaxModelName) return invalid(error, "model name is longer than 256 bytes");
  if (fd >= 0) {
    if (::fcntl(fd, F_GETFD) < 0) {
      set_error(error, LAROD_ERROR_FD, "model fd " + std::to_string(fd) + " is not an open file descriptor");
      return false;
    }
    fds.push_back(fd);
  }
  req.has_fd = fd >= 0;
  req.device = {dev->name, dev->instance};
  req.access = static_cast<uint32_t>(access);
  req.name = name ? name : "";
  if (params) req.params = params->map;
  return true;
}

// The completion of larodLoadModelAsync, on the callback thread.
void finish_async_load(larodLoadModelCallback callback, void* user, const Message* reply,
                       const std::string& failure) noexcept {
  larodError* err = nullptr;
  larodModel* model = nullptr;
  try {
    if (std::optional<Reader> body = reply_body(reply, failure, &err)) {
      model = make_model(decode<ModelInfo>(*body));
    }
  } catch (...) {
    report_current_exception(&err);
  }
  if (callback) {
    callback(model, user, err);
  } else {
    delete model;
  }
  free_error(err);
}

size_t* byte_sizes(const std::vector<TensorInfo>& infos, size_t* num) {
  auto* arr = static_cast<size_t*>(std::calloc(infos.size() ? infos.size() : 1, sizeof(size_t)));
  if (!arr) throw std::bad_alloc();
  for (size_t i = 0; i < infos.size(); ++i) arr[i] = static_cast<size_t>(infos[i].byte_size);
  if (num) *num = infos.size();
  return arr;
}

// The value a getter returns for a null model, with EINVAL.
template <class R>
R null_model(larodError** error, R value) {
  invalid(error, "model is NULL");
  return value;
}

}  // namespace

extern "C" {

larodModel* larodLoadModel(larodConnection* conn, const int fd, const larodDevice* dev,
                           const larodAccess access, const char* name, const larodMap* params,
                           larodError** error) {
  return guarded(error, [&]() -> larodModel* {
    LoadModelRequest req;
    std::vector<int> fds;
    if (!load_request(conn, fd, dev, access, name, params, req, fds, error)) return nullptr;
    ModelInfo info;
    if (!call(conn, req, fds, &info, error)) return nullptr;
    return make_model(info);
  });
}

bool larodLoadModelAsync(larodConnection* conn, const int inFd, const larodDevice* dev,
                         const larodAccess access, const char* name, const larodMap* params,
                         larodLoadModelCallback callback, void* userData, larodError** error) {
  return guarded(error, [&] {
    LoadModelRequest req;
    std::vector<int> fds;
    if (!load_request(conn, inFd, dev, access, name, params, req, fds, error)) return false;
    auto done = [callback, userData](const Message* reply, const std::string& why) {
      finish_async_load(callback, userData, reply, why);
    };
    return call_async(conn, req, fds, done, error);
  });
}

larodModel* larodGetModel(larodConnection* conn, const uint64_t modelId, larodError** error) {
  return guarded(error, [&]() -> larodModel* {
    ModelInfo info;
    if (!call(conn, GetModelRequest{modelId}, {}, &info, error)) return nullptr;
    return make_model(info);
  });
}

larodModel** larodGetModels(larodConnection* conn, size_t* numModels, larodError** error) {
  return guarded(error, [&]() -> larodModel** {
    if (!numModels) {
      invalid(error, "numModels is NULL");
      return nullptr;
    }
    GetModelsReply reply;
    if (!call(conn, GetModelsRequest{}, {}, &reply, error)) return nullptr;
    const size_t n = reply.models.size();
    auto** arr = static_cast<larodModel**>(std::calloc(n ? n : 1, sizeof(larodModel*)));
    if (!arr) throw std::bad_alloc();
    for (size_t i = 0; i < n; ++i) {
      try {
        arr[i] = make_model(reply.models[i]);
      } catch (...) {
        larodDestroyModels(&arr, i);
        throw;
      }
    }
    *numModels = n;
    return arr;
  });
}

void larodDestroyModel(larodModel** model) {
  guarded_void([&] {
    if (!model || !*model) return;
    delete *model;
    *model = nullptr;
  });
}

void larodDestroyModels(larodModel*** models, size_t numModels) {
  guarded_void([&] {
    if (!models || !*models) return;
    for (size_t i = 0; i < numModels; ++i) delete (*models)[i];
    std::free(*models);
    *models = nullptr;
  });
}

bool larodDeleteModel(larodConnection* conn, larodModel* model, larodError** error) {
  return guarded(error, [&] {
    if (!model) return invalid(error, "model is NULL");
    return call(conn, DeleteModelRequest{model->id}, {}, nullptr, error);
  });
}

uint64_t larodGetModelId(const larodModel* model, larodError** error) {
  return guarded(error, uint64_t{LAROD_INVALID_MODEL_ID},
                 [&] { return model ? model->id : null_model(error, uint64_t{LAROD_INVALID_MODEL_ID}); });
}

const larodDevice* larodGetModelDevice(const larodModel* model, larodError** error) {
  return guarded(error,
                 [&]() -> const larodDevice* { return model ? model->device : null_model(error, nullptr); });
}

size_t larodGetModelSize(const larodModel* model, larodError** error) {
  return guarded(error, size_t{0}, [&] { return model ? model->size : null_model(error, size_t{0}); });
}

const char* larodGetModelName(const larodModel* model, larodError** error) {
  return guarded(error,
                 [&]() -> const char* { return model ? model->name.c_str() : null_model(error, nullptr); });
}

larodAccess larodGetModelAccess(const larodModel* model, larodError** error) {
  return guarded(error, LAROD_ACCESS_INVALID,
                 [&] { return model ? model->access : null_model(error, LAROD_ACCESS_INVALID); });
}

size_t larodGetModelNumInputs(const larodModel* model, larodError** error) {
  return guarded(error, size_t{0},
                 [&] { return model ? model->inputs.size() : null_model(error, size_t{0}); });
}

size_t larodGetModelNumOutputs(const larodModel* model, larodError** error) {
  return guarded(error, size_t{0},
                 [&] { return model ? model->outputs.size() : null_model(error, size_t{0}); });
}

size_t* larodGetModelInputByteSizes(const larodModel* model, size_t* numInputs, larodError** error) {
  return guarded(error, [&]() -> size_t* {
    return model ? byte_sizes(model->inputs, numInputs) : null_model<size_t*>(error, nullptr);
  });
}

size_t* larodGetModelOutputByteSizes(const larodModel* model, size_t* numOutputs, larodError** error) {
  return guarded(error, [&]() -> size_t* {
    return model ? byte_sizes(model->outputs, numOutputs) : null_model<size_t*>(error, nullptr);
  });
}

}  // extern "C"
