// C API: tensors, the memory behind them (allocated by the service or
// tracked), and their descriptions.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "service/client/handles.h"

using namespace osprey::service;
using namespace osprey::service::client;

namespace {

// Asks the service to free buffers (in chunks that fit a message); false
// with *error when a request failed.
bool release_buffers(larodConnection* conn, const std::vector<uint64_t>& ids, larodError** error) {
  bool ok = true;
  for (size_t start = 0; start < ids.size(); start += kMaxListItems) {
    ReleaseBuffersRequest req;
    const size_t end = std::min(ids.size(), start + kMaxListItems);
    req.buffer_ids.assign(ids.begin() + static_cast<std::ptrdiff_t>(start),
                          ids.begin() + static_cast<std::ptrdiff_t>(end));
    ok = call(conn, req, {}, nullptr, error) && ok;
  }
  return ok;
}

larodTensor** alloc_tensors(larodConnection* conn, const larodModel* model, uint32_t props,
                            size_t* numTensors, larodMap* params, bool outputs, larodError** error) {
  if (!conn) {
    invalid(error, "conn is NULL");
    return nullptr;
  }
  if (!model) {
    invalid(error, "model is NULL");
    return nullptr;
  }
  if (props & ~wire::kPropAll) {
    invalid(error, "unknown fd property flags");
    return nullptr;
  }
  AllocTensorsRequest req;
  req.model_id = model->id;
  req.outputs = outputs;
  req.props = props;
  if (params) req.params = params->map;
  AllocTensorsReply reply;
  std::vector<UniqueFd> fds;
  if (!call(conn, req, {}, &reply, error, &fds)) return nullptr;
  if (fds.size() != reply.buffers.size())
    throw ProtocolError("allocation reply carries the wrong number of fds");
  const auto& infos = outputs ? model->outputs : model->inputs;
  larodTensor** arr = nullptr;
  size_t n = 0;
  try {
    if (reply.buffers.size() != infos.size()) {
      set_error(error, LAROD_ERROR_ALLOC,
                "ospreyd allocated a different number of tensors than the model has");
    } else {
      arr = tensors_from_infos(infos, &n);
      for (size_t i = 0; i < n; ++i) conn->allocated.add(fds[i].get(), reply.buffers[i].id);
    }
  } catch (...) {
    for (size_t i = 0; i < fds.size(); ++i) conn->allocated.remove(fds[i].get());
    destroy_tensor_array(arr, n);
    arr = nullptr;
    report_current_exception(error);
  }
  if (!arr) {
    // Best effort: the service frees them with the session anyway.
    std::vector<uint64_t> ids;
    try {
      for (const auto& b : reply.buffers) ids.push_back(b.id);
      release_buffers(conn, ids, nullptr);
    } catch (...) {
    }
    return nullptr;
  }
  for (size_t i = 0; i < n; ++i) {
    larodTensor* t = arr[i];
    t->fd = fds[i].release();
    t->owned_fd = t->fd;
    t->owned_id = reply.buffers[i].id;
    t->owned_serial = conn->serial;
    t->fd_size = static_cast<size_t>(reply.buffers[i].size);
    t->offset = 0;
    t->props = reply.buffers[i].props;
  }
  if (numTensors) *numTensors = n;
  return arr;
}

}  // namespace

extern "C" {

larodTensor** larodCreateModelInputs(const larodModel* model, size_t* numTensors, larodError** error) {
  return guarded(error, [&]() -> larodTensor** {
    if (!model) {
      invalid(error, "model is NULL");
      return nullptr;
    }
    return tensors_from_infos(model->inputs, numTensors);
  });
}

larodTensor** larodCreateModelOutputs(const larodModel* model, size_t* numTensors, larodError** error) {
  return guarded(error, [&]() -> larodTensor** {
    if (!model) {
      invalid(error, "model is NULL");
      return nullptr;
    }
    return tensors_from_infos(model->outputs, numTensors);
  });
}

larodTensor** larodAllocModelInputs(larodConnection* conn, const larodModel* model,
                                    const uint32_t fdPropFlags, size_t* numTensors, larodMap* params,
                                    larodError** error) {
  return guarded(error,
                 [&] { return alloc_tensors(conn, model, fdPropFlags, numTensors, params, false, error); });
}

larodTensor** larodAllocModelOutputs(larodConnection* conn, const larodModel* model,
                                     const uint32_t fdPropFlags, size_t* numTensors, larodMap* params,
                                     larodError** error) {
  return guarded(error,
                 [&] { return alloc_tensors(conn, model, fdPropFlags, numTensors, params, true, error); });
}

larodTensor** larodCreateTensors(const size_t numTensors, larodError** error) {
  return guarded(error, [&]() -> larodTensor** {
    if (numTensors == 0 || numTensors > 4096) {
      invalid(error, "numTensors must be 1..4096");
      return nullptr;
    }
    auto** arr = static_cast<larodTensor**>(std::calloc(numTensors, sizeof(larodTensor*)));
    if (!arr) throw std::bad_alloc();
    try {
      for (size_t i = 0; i < numTensors; ++i) arr[i] = new larodTensor();
    } catch (...) {
      destroy_tensor_array(arr, numTensors);  // calloc'ed: the slots not reached are null
      throw;
    }
    return arr;
  });
}

bool larodDestroyTensors(larodConnection* conn, larodTensor*** tensors, const size_t numTensors,
                         larodError** error) {
  return guarded(error, [&] {
    if (!tensors || !*tensors) return true;
    // The local side is freed whatever happens; without memory to list the
    // buffers, the service frees them when the connection closes.
    std::vector<uint64_t> release;
    bool can_release = true;
    try {
      release.reserve(2 * numTensors);
    } catch (const std::bad_alloc&) {
      can_release = false;
    }
    for (size_t i = 0; i < numTensors; ++i) {
      larodTensor* t = (*tensors)[i];
      if (!t) continue;
      if (can_release && conn && t->tracked_id && t->tracked_serial == conn->serial)
        release.push_back(t->tracked_id);
      if (can_release && conn && t->owned_id && t->owned_serial == conn->serial)
        release.push_back(t->owned_id);
      if (t->owned_fd >= 0) {
        if (conn && t->owned_serial == conn->serial) conn->allocated.remove(t->owned_fd);
        ::close(t->owned_fd);
      }
      delete t;
    }
    std::free(*tensors);
    *tensors = nullptr;
    // The service already freed everything of a dead session.
    if (!conn || conn->broken()) return true;
    if (!can_release) {
      set_error(error, LAROD_ERROR_ALLOC,
                "out of memory: the service frees the tensors' buffers with the session");
      return false;
    }
    return release_buffers(conn, release, error);
  });
}

bool larodSetTensorDims(larodTensor* tensor, const larodTensorDims* dims, larodError** error) {
  return guarded(error, [&] {
    if (!tensor) return invalid(error, "tensor is NULL");
    if (!dims) return invalid(error, "dims is NULL");
    if (dims->len > LAROD_TENSOR_MAX_LEN)
      return invalid(error, "dims->len is larger than LAROD_TENSOR_MAX_LEN");
    tensor->dims = *dims;
    return true;
  });
}

const larodTensorDims* larodGetTensorDims(const larodTensor* tensor, larodError** error) {
  return guarded(error, [&]() -> const larodTensorDims* {
    if (!tensor) {
      invalid(error, "tensor is NULL");
      return nullptr;
    }
    return &tensor->dims;
  });
}

bool larodSetTensorPitches(larodTensor* tensor, const larodTensorPitches* pitches, larodError** error) {
  return guarded(error, [&] {
    if (!tensor) return invalid(error, "tensor is NULL");
    if (!pitches) return invalid(error, "pitches is NULL");
    if (pitches->len > LAROD_TENSOR_MAX_LEN)
      return invalid(error, "pitches->len is larger than LAROD_TENSOR_MAX_LEN");
    tensor->pitches = *pitches;
    return true;
  });
}

const larodTensorPitches* larodGetTensorPitches(const larodTensor* tensor, larodError** error) {
  return guarded(error, [&]() -> const larodTensorPitches* {
    if (!tensor) {
      invalid(error, "tensor is NULL");
      return nullptr;
    }
    return &tensor->pitches;
  });
}

bool larodSetTensorDataType(larodTensor* tensor, const larodTensorDataType dataType, larodError** error) {
  return guarded(error, [&] {
    if (!tensor) return invalid(error, "tensor is NULL");
    if (dataType <= LAROD_TENSOR_DATA_TYPE_INVALID || dataType >= LAROD_TENSOR_DATA_TYPE_MAX) {
      return invalid(error, "invalid data type " + std::to_string(static_cast<int>(dataType)));
    }
    tensor->data_type = dataType;
    return true;
  });
}

larodTensorDataType larodGetTensorDataType(const larodTensor* tensor, larodError** error) {
  return guarded(error, LAROD_TENSOR_DATA_TYPE_INVALID, [&] {
    if (!tensor) {
      invalid(error, "tensor is NULL");
      return LAROD_TENSOR_DATA_TYPE_INVALID;
    }
    return tensor->data_type;
  });
}

bool larodSetTensorLayout(larodTensor* tensor, const larodTensorLayout layout, larodError** error) {
  return guarded(error, [&] {
    if (!tensor) return invalid(error, "tensor is NULL");
    if (layout <= LAROD_TENSOR_LAYOUT_INVALID || layout >= LAROD_TENSOR_LAYOUT_MAX) {
      return invalid(error, "invalid layout " + std::to_string(static_cast<int>(layout)));
    }
    tensor->layout = layout;
    return true;
  });
}

larodTensorLayout larodGetTensorLayout(const larodTensor* tensor, larodError** error) {
  return guarded(error, LAROD_TENSOR_LAYOUT_INVALID, [&] {
    if (!tensor) {
      invalid(error, "tensor is NULL");
      return LAROD_TENSOR_LAYOUT_INVALID;
    }
    return tensor->layout;
  });
}

bool larodSetTensorFd(larodTensor* tensor, const int fd, larodError** error) {
  return guarded(error, [&] {
    if (!tensor) return invalid(error, "tensor is NULL");
    if (fd < 0 && fd != LAROD_INVALID_FD) return invalid(error, "invalid fd " + std::to_string(fd));
    if (tensor->tracked_id && fd != tensor->tracked_fd) {
      set_error(error, LAROD_ERROR_FD, "the tensor is tracked; its fd cannot change");
      return false;
    }
    tensor->fd = fd;
    return true;
  });
}

int larodGetTensorFd(const larodTensor* tensor, larodError** error) {
  return guarded(error, int{LAROD_INVALID_FD}, [&] {
    if (!tensor) {
      invalid(error, "tensor is NULL");
      return int{LAROD_INVALID_FD};
    }
    return tensor->fd;
  });
}

bool larodSetTensorFdSize(larodTensor* tensor, const size_t size, larodError** error) {
  return guarded(error, [&] {
    if (!tensor) return invalid(error, "tensor is NULL");
    tensor->fd_size = size;
    return true;
  });
}

bool larodGetTensorFdSize(const larodTensor* tensor, size_t* size, larodError** error) {
  return guarded(error, [&] {
    if (!tensor) return invalid(error, "tensor is NULL");
    if (!size) return invalid(error, "size is NULL");
    *size = tensor->fd_size;
    return true;
  });
}

bool larodSetTensorFdOffset(larodTensor* tensor, const int64_t offset, larodError** error) {
  return guarded(error, [&] {
    if (!tensor) return invalid(error, "tensor is NULL");
    if (offset < 0) return invalid(error, "negative fd offset");
    tensor->offset = offset;
    return true;
  });
}

int64_t larodGetTensorFdOffset(const larodTensor* tensor, larodError** error) {
  return guarded(error, int64_t{-1}, [&] {
    if (!tensor) {
      invalid(error, "tensor is NULL");
      return int64_t{-1};
    }
    return tensor->offset;
  });
}

bool larodSetTensorFdProps(larodTensor* tensor, const uint32_t fdPropFlags, larodError** error) {
  return guarded(error, [&] {
    if (!tensor) return invalid(error, "tensor is NULL");
    if (fdPropFlags & ~wire::kPropAll) return invalid(error, "unknown fd property flags");
    tensor->props = fdPropFlags;
    return true;
  });
}

bool larodGetTensorFdProps(const larodTensor* tensor, uint32_t* fdPropFlags, larodError** error) {
  return guarded(error, [&] {
    if (!tensor) return invalid(error, "tensor is NULL");
    if (!fdPropFlags) return invalid(error, "fdPropFlags is NULL");
    *fdPropFlags = tensor->props;
    return true;
  });
}

const char* larodGetTensorName(const larodTensor* tensor, larodError** error) {
  return guarded(error, [&]() -> const char* {
    if (!tensor) {
      invalid(error, "tensor is NULL");
      return nullptr;
    }
    return tensor->name.c_str();
  });
}

bool larodGetTensorByteSize(const larodTensor* tensor, size_t* byteSize, larodError** error) {
  return guarded(error, [&] {
    if (!tensor) return invalid(error, "tensor is NULL");
    if (!byteSize) return invalid(error, "byteSize is NULL");
    if (tensor->pitches.len > 0) {
      *byteSize = tensor->pitches.pitches[0];
      return true;
    }
    const size_t elem = data_type_size(static_cast<uint32_t>(tensor->data_type));
    if (tensor->dims.len > 0 && elem > 0 && tensor->layout != LAROD_TENSOR_LAYOUT_420SP) {
      size_t n = elem;
      for (size_t i = 0; i < tensor->dims.len; ++i) n *= tensor->dims.dims[i];
      *byteSize = n;
      return true;
    }
    if (tensor->model_byte_size > 0) {
      *byteSize = tensor->model_byte_size;
      return true;
    }
    return invalid(error, "the tensor's byte size is unknown (set its pitches, or its dims and data type)");
  });
}

bool larodTrackTensor(larodConnection* conn, larodTensor* tensor, larodError** error) {
  return guarded(error, [&] {
    if (!conn) return invalid(error, "conn is NULL");
    if (!tensor) return invalid(error, "tensor is NULL");
    if (tensor->fd < 0) {
      set_error(error, LAROD_ERROR_FD, "the tensor has no fd to track");
      return false;
    }
    if (tensor->owned_id && tensor->owned_serial == conn->serial && tensor->fd == tensor->owned_fd)
      return true;
    if (tensor->tracked_id) {
      if (tensor->tracked_serial == conn->serial && tensor->fd == tensor->tracked_fd) return true;
      set_error(error, LAROD_ERROR_FD, "the tensor is already tracked by another connection");
      return false;
    }
    TrackBufferReply reply;
    if (!call(conn, TrackBufferRequest{tensor->props}, {tensor->fd}, &reply, error)) return false;
    tensor->tracked_id = reply.buffer_id;
    tensor->tracked_fd = tensor->fd;
    tensor->tracked_serial = conn->serial;
    return true;
  });
}

}  // extern "C"
