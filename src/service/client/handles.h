// What liblarod's opaque handles hold, and the helpers the API files share.
// The API is split by area: api_connection.cpp (connection, devices),
// api_models.cpp, api_tensors.cpp, api_maps.cpp, api_jobs.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "larod.h"
#include "service/client/connection.h"
#include "service/client/errors.h"
#include "service/protocol.h"

struct larodDevice {
  std::string name;
  uint32_t instance = 0;
};

struct larodModel {
  uint64_t id = LAROD_INVALID_MODEL_ID;
  std::string name;
  const larodDevice* device = nullptr;
  larodAccess access = LAROD_ACCESS_INVALID;
  size_t size = 0;
  std::vector<osprey::service::TensorInfo> inputs;
  std::vector<osprey::service::TensorInfo> outputs;
};

struct larodMap {
  osprey::service::ParamMap map;
};

struct larodTensor {
  larodTensorDims dims{};
  larodTensorPitches pitches{};
  larodTensorDataType data_type = LAROD_TENSOR_DATA_TYPE_UNSPECIFIED;
  larodTensorLayout layout = LAROD_TENSOR_LAYOUT_UNSPECIFIED;
  int fd = LAROD_INVALID_FD;
  size_t fd_size = 0;
  int64_t offset = 0;
  uint32_t props = LAROD_FD_TYPE_DISK;
  std::string name;
  size_t model_byte_size = 0;  // from the model description, 0 when unknown
  // Memory the service knows about: allocated for this tensor (owned_fd,
  // closed by larodDestroyTensors) and/or tracked (the fd the app had set
  // when larodTrackTensor ran). Buffer ids are per connection.
  uint64_t owned_serial = 0;
  uint64_t owned_id = 0;
  int owned_fd = -1;
  uint64_t tracked_serial = 0;
  uint64_t tracked_id = 0;
  int tracked_fd = -1;
};

struct larodJobRequest {
  uint64_t model_id = LAROD_INVALID_MODEL_ID;
  size_t model_inputs = 0;
  size_t model_outputs = 0;
  std::vector<larodTensor*> inputs;
  std::vector<larodTensor*> outputs;
  osprey::service::ParamMap params;
  uint8_t priority = 50;
};

namespace osprey::service::client {

// Memfds the service allocated on one connection, by fd: a job naming such
// an fd refers to the buffer instead of passing the fd again.
class AllocatedFds {
 public:
  void add(int fd, uint64_t buffer_id);
  void remove(int fd);
  bool find(int fd, uint64_t& buffer_id) const;

 private:
  mutable std::mutex mu_;
  std::map<int, uint64_t> ids_;
};

uint64_t next_connection_serial();

}  // namespace osprey::service::client

struct larodConnection final : osprey::service::client::Connection {
  explicit larodConnection(osprey::service::UniqueFd sock) : Connection(std::move(sock)) {}
  // Tells this connection's buffer ids from another's (ids are per connection).
  const uint64_t serial = osprey::service::client::next_connection_serial();
  std::vector<const larodDevice*> devices;  // set by larodConnect, read-only afterwards
  osprey::service::client::AllocatedFds allocated;
};

namespace osprey::service::client {

// Devices are interned for the life of the process (handles stay valid).
const larodDevice* intern_device(const std::string& name, uint32_t instance);
// Throws std::bad_alloc.
larodModel* make_model(const ModelInfo& info);
// New tensors described by a model's inputs or outputs; throws std::bad_alloc.
larodTensor** tensors_from_infos(const std::vector<TensorInfo>& infos, size_t* numTensors);
void destroy_tensor_array(larodTensor** arr, size_t n) noexcept;

// The body of `reply` after its status: nullopt with *error set when there
// is no reply (LAROD_ERROR_CONNECTION, `failure`) or the daemon reported an
// error (its status and message). A malformed reply throws ProtocolError.
std::optional<Reader> reply_body(const Message* reply, const std::string& failure, larodError** error);

// Sends `req` and waits for its reply. On success decodes the reply's body
// into *out (when not null) and hands over the fds it carries. On failure
// sets *error: the daemon's status and message, or LAROD_ERROR_CONNECTION.
// A malformed reply throws ProtocolError (guarded() reports it).
template <class Req>
bool call(larodConnection* conn, const Req& req, const std::vector<int>& fds, typename Req::Reply* out,
          larodError** error, std::vector<UniqueFd>* reply_fds = nullptr) {
  if (!conn) return invalid(error, "conn is NULL");
  Writer w;
  req.write(w);
  Message reply;
  std::string failure;
  const bool answered = conn->call(Req::kType, w.bytes(), fds, reply, failure);
  std::optional<Reader> body = reply_body(answered ? &reply : nullptr, failure, error);
  if (!body) return false;
  auto decoded = decode<typename Req::Reply>(*body);
  if (out) *out = std::move(decoded);
  if (reply_fds) *reply_fds = std::move(reply.fds);
  return true;
}

// Sends `req` without waiting; `done` runs on the callback thread with the
// reply or the reason the connection broke. False with *error when it could
// not be sent (then `done` never runs).
template <class Req>
bool call_async(larodConnection* conn, const Req& req, const std::vector<int>& fds,
                Connection::Completion done, larodError** error) {
  Writer w;
  req.write(w);
  std::string failure;
  if (!conn->call_async(Req::kType, w.bytes(), fds, std::move(done), failure)) {
    set_error(error, LAROD_ERROR_CONNECTION, failure);
    return false;
  }
  return true;
}

}  // namespace osprey::service::client
