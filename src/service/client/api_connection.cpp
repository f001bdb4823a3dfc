// C API: errors, connections and devices.
#include <cstdlib>
#include <cstring>
#include <memory>

#include "service/client/handles.h"

using namespace osprey::service;
using namespace osprey::service::client;

// The wire values are the header's enum values.
constexpr int I(int v) {
  return v;
}
static_assert(I(LAROD_ERROR_JOB) == I(wire::kErrJob) && I(LAROD_ERROR_ALLOC) == I(wire::kErrAlloc) &&
              I(LAROD_ERROR_CONNECTION) == I(wire::kErrConnection) &&
              I(LAROD_ERROR_TENSOR_MISMATCH) == I(wire::kErrTensorMismatch) &&
              I(LAROD_ERROR_VERSION_MISMATCH) == I(wire::kErrVersionMismatch) &&
              I(LAROD_ERROR_FD) == I(wire::kErrFd) &&
              I(LAROD_ERROR_MODEL_NOT_FOUND) == I(wire::kErrModelNotFound) &&
              I(LAROD_ERROR_INVALID_ACCESS) == I(wire::kErrInvalidAccess) &&
              I(LAROD_ERROR_LOAD_MODEL) == I(wire::kErrLoadModel) &&
              I(LAROD_ERROR_INVALID_CHIP_ID) == I(wire::kErrInvalidChipId));
static_assert(I(LAROD_TENSOR_DATA_TYPE_FLOAT64) == I(wire::kTypeFloat64) &&
              I(LAROD_TENSOR_DATA_TYPE_MAX) == I(wire::kTypeMax) &&
              I(LAROD_TENSOR_DATA_TYPE_UINT8) == I(wire::kTypeUInt8));
static_assert(I(LAROD_TENSOR_LAYOUT_420SP) == I(wire::kLayout420SP) &&
              I(LAROD_TENSOR_LAYOUT_MAX) == I(wire::kLayoutMax));
static_assert(I(LAROD_ACCESS_PUBLIC) == I(wire::kAccessPublic) &&
              I(LAROD_ACCESS_USER_PROTECTED) == I(wire::kAccessUserProtected));
static_assert(LAROD_FD_PROP_DMABUF == wire::kPropDmabuf && LAROD_FD_PROP_MAP == wire::kPropMap);

namespace {

// Pending requests complete with CONNECTION errors, then the socket closes.
void destroy_connection(larodConnection* c) {
  Connection::destroy(c, "the connection was closed (larodDisconnect)");
}

struct ConnectionDeleter {
  void operator()(larodConnection* c) const { destroy_connection(c); }
};

}  // namespace

extern "C" {

void larodClearError(larodError** error) {
  guarded_void([&] {
    if (!error || !*error) return;
    free_error(*error);
    *error = nullptr;
  });
}

bool larodConnect(larodConnection** conn, larodError** error) {
  return guarded(error, [&] {
    if (!conn) return invalid(error, "conn is NULL");
    *conn = nullptr;
    std::string failure;
    const std::string path = default_socket_path();
    UniqueFd sock = Connection::open_socket(path, failure);
    if (!sock) {
      set_error(error, LAROD_ERROR_CONNECTION, failure);
      return false;
    }
    std::unique_ptr<larodConnection> fresh(new larodConnection(std::move(sock)));
    fresh->start();
    // Started: from here on only destroy_connection() may free it.
    std::unique_ptr<larodConnection, ConnectionDeleter> c(fresh.release());
    HelloRequest hello;
    hello.client =
        "liblarod " + std::to_string(LAROD_VERSION_MAJOR) + "." + std::to_string(LAROD_VERSION_MINOR);
    if (!call(c.get(), hello, {}, nullptr, error)) return false;
    ListDevicesReply devices;
    if (!call(c.get(), ListDevicesRequest{}, {}, &devices, error)) return false;
    for (const auto& d : devices.devices) c->devices.push_back(intern_device(d.name, d.instance));
    *conn = c.release();
    return true;
  });
}

bool larodDisconnect(larodConnection** conn, larodError** error) {
  return guarded(error, [&] {
    if (!conn || !*conn) return invalid(error, "conn is NULL");
    destroy_connection(*conn);
    *conn = nullptr;
    return true;
  });
}

bool larodGetNumSessions(larodConnection* conn, uint64_t* numSessions, larodError** error) {
  return guarded(error, [&] {
    if (!numSessions) return invalid(error, "numSessions is NULL");
    NumSessionsReply reply;
    if (!call(conn, NumSessionsRequest{}, {}, &reply, error)) return false;
    *numSessions = reply.sessions;
    return true;
  });
}

const larodDevice* larodGetDevice(const larodConnection* conn, const char* name, const uint32_t instance,
                                  larodError** error) {
  return guarded(error, [&]() -> const larodDevice* {
    if (!conn) {
      invalid(error, "conn is NULL");
      return nullptr;
    }
    if (!name) {
      invalid(error, "name is NULL");
      return nullptr;
    }
    std::string known;
    for (const larodDevice* d : conn->devices) {
      if (d->name == name && d->instance == instance) return d;
      if (!known.empty()) known += ", ";
      known += d->name;
      known += ":";
      known += std::to_string(d->instance);
    }
    set_error(error, LAROD_ERROR_INVALID_CHIP_ID,
              std::string("no device '") + name + "' instance " + std::to_string(instance) +
                  " (devices: " + known + ")");
    return nullptr;
  });
}

const char* larodGetDeviceName(const larodDevice* dev, larodError** error) {
  return guarded(error, [&]() -> const char* {
    if (!dev) {
      invalid(error, "dev is NULL");
      return nullptr;
    }
    return dev->name.c_str();
  });
}

bool larodGetDeviceInstance(const larodDevice* dev, uint32_t* instance, larodError** error) {
  return guarded(error, [&] {
    if (!dev) return invalid(error, "dev is NULL");
    if (!instance) return invalid(error, "instance is NULL");
    *instance = dev->instance;
    return true;
  });
}

const larodDevice** larodListDevices(larodConnection* conn, size_t* numDevices, larodError** error) {
  return guarded(error, [&]() -> const larodDevice** {
    if (!conn) {
      invalid(error, "conn is NULL");
      return nullptr;
    }
    if (!numDevices) {
      invalid(error, "numDevices is NULL");
      return nullptr;
    }
    const size_t n = conn->devices.size();
    auto** arr = static_cast<const larodDevice**>(std::calloc(n ? n : 1, sizeof(larodDevice*)));
    if (!arr) throw std::bad_alloc();
    for (size_t i = 0; i < n; ++i) arr[i] = conn->devices[i];
    *numDevices = n;
    return arr;
  });
}

}  // extern "C"
