#include "service/client/handles.h"

#include <atomic>
#include <cstdlib>
#include <deque>
#include <memory>

namespace osprey::service::client {

void AllocatedFds::add(int fd, uint64_t buffer_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ids_[fd] = buffer_id;
}

void AllocatedFds::remove(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  ids_.erase(fd);
}

bool AllocatedFds::find(int fd, uint64_t& buffer_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ids_.find(fd);
  if (it == ids_.end()) return false;
  buffer_id = it->second;
  return true;
}

uint64_t next_connection_serial() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

const larodDevice* intern_device(const std::string& name, uint32_t instance) {
  static std::mutex mu;
  static std::deque<larodDevice> devices;  // deque: stable addresses
  std::lock_guard<std::mutex> lock(mu);
  for (const auto& d : devices) {
    if (d.name == name && d.instance == instance) return &d;
  }
  devices.push_back({name, instance});
  return &devices.back();
}

larodModel* make_model(const ModelInfo& info) {
  auto m = std::make_unique<larodModel>();
  m->id = info.id;
  m->name = info.name;
  m->device = intern_device(info.device, info.instance);
  m->access = static_cast<larodAccess>(info.access);
  m->size = static_cast<size_t>(info.size);
  m->inputs = info.inputs;
  m->outputs = info.outputs;
  return m.release();
}

void destroy_tensor_array(larodTensor** arr, size_t n) noexcept {
  if (!arr) return;
  for (size_t i = 0; i < n; ++i) delete arr[i];
  std::free(arr);
}

larodTensor** tensors_from_infos(const std::vector<TensorInfo>& infos, size_t* numTensors) {
  const size_t n = infos.size();
  auto** arr = static_cast<larodTensor**>(std::calloc(n ? n : 1, sizeof(larodTensor*)));
  if (!arr) throw std::bad_alloc();
  try {
    for (size_t i = 0; i < n; ++i) {
      auto t = std::make_unique<larodTensor>();
      const TensorInfo& info = infos[i];
      t->name = info.name;
      t->data_type = static_cast<larodTensorDataType>(info.data_type);
      t->layout = static_cast<larodTensorLayout>(info.layout);
      t->dims.len = std::min<size_t>(info.dims.size(), LAROD_TENSOR_MAX_LEN);
      for (size_t k = 0; k < t->dims.len; ++k) t->dims.dims[k] = static_cast<size_t>(info.dims[k]);
      t->pitches.len = std::min<size_t>(info.pitches.size(), LAROD_TENSOR_MAX_LEN);
      for (size_t k = 0; k < t->pitches.len; ++k)
        t->pitches.pitches[k] = static_cast<size_t>(info.pitches[k]);
      t->model_byte_size = static_cast<size_t>(info.byte_size);
      arr[i] = t.release();
    }
  } catch (...) {
    destroy_tensor_array(arr, n);  // calloc'ed: the slots not reached are null
    throw;
  }
  if (numTensors) *numTensors = n;
  return arr;
}

std::optional<Reader> reply_body(const Message* reply, const std::string& failure, larodError** error) {
  if (!reply) {
    set_error(error, LAROD_ERROR_CONNECTION, failure);
    return std::nullopt;
  }
  Reader r = reply->reader();
  const auto status = ReplyStatus::read(r);
  if (status.status != wire::kOk) {
    set_error(error, status.status, status.message);
    return std::nullopt;
  }
  return r;
}

}  // namespace osprey::service::client
