#include "service/daemon/job_validation.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

namespace osprey::service {
namespace {

std::string str(uint64_t v) {
  return std::to_string(v);
}

std::string dims_str(const std::vector<uint64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + str(d[i]);
  return s + "]";
}

}  // namespace

void check_job_fds(const RunJobRequest& req, size_t num_fds) {
  std::vector<bool> fd_used(num_fds, false);
  for (const auto* refs : {&req.inputs, &req.outputs}) {
    for (const TensorRef& ref : *refs) {
      if (ref.kind != TensorRef::kFd) continue;
      if (ref.fd_index >= num_fds)
        throw ProtocolError("tensor fd index " + str(ref.fd_index) + " out of range");
      fd_used[ref.fd_index] = true;
    }
  }
  for (bool used : fd_used) {
    if (!used) throw ProtocolError("RUN_JOB carries a file descriptor no tensor uses");
  }
}

void check_job_shape(const RunJobRequest& req, const LoadedModel& model) {
  if (req.priority > 100)
    throw ServiceError(wire::kErrJob, "priority " + str(req.priority) + " is outside 0..100");
  if (req.inputs.size() != model.inputs.size() || req.outputs.size() != model.outputs.size()) {
    throw ServiceError(wire::kErrTensorMismatch, "the job has " + str(req.inputs.size()) + " inputs and " +
                                                     str(req.outputs.size()) + " outputs; the model has " +
                                                     str(model.inputs.size()) + " and " +
                                                     str(model.outputs.size()));
  }
}

JobMemory::JobMemory(const std::map<uint64_t, std::shared_ptr<Buffer>>& session_buffers,
                     const std::vector<UniqueFd>& fds)
    : session_buffers_(session_buffers), fds_(fds), adopted_(fds.size()) {}

std::shared_ptr<Buffer> JobMemory::get(const TensorRef& ref, const std::string& what) {
  if (ref.kind == TensorRef::kBuffer) {
    auto it = session_buffers_.find(ref.buffer_id);
    if (it == session_buffers_.end())
      throw ServiceError(wire::kErrFd, what + ": unknown buffer id " + str(ref.buffer_id));
    return it->second;
  }
  if (ref.fd_index >= fds_.size())
    throw ServiceError(wire::kErrFd, what + ": fd index " + str(ref.fd_index) + " out of range");
  auto& b = adopted_[ref.fd_index];
  if (!b) {
    // A duplicate: the message's fd closes with the message, the buffer lives with the job.
    UniqueFd fd(::fcntl(fds_[ref.fd_index].get(), F_DUPFD_CLOEXEC, 0));
    if (!fd) throw ServiceError(wire::kErrFd, what + ": " + std::strerror(errno));
    std::string error;
    b = Buffer::adopt(std::move(fd), ref.props, error);
    if (!b) throw ServiceError(wire::kErrFd, what + ": " + error);
  }
  return b;
}

JobTensor bind_job_tensor(const TensorRef& ref, const TensorInfo& info, std::shared_ptr<Buffer> buffer,
                          bool is_output, const std::string& what) {
  const Buffer& b = *buffer;
  if (ref.offset < 0)
    throw ServiceError(wire::kErrFd, what + ": negative fd offset " + std::to_string(ref.offset));
  if (ref.fd_size > b.size()) {
    throw ServiceError(wire::kErrFd, what + ": fd size " + str(ref.fd_size) +
                                         " is larger than the memory behind the fd (" + str(b.size()) +
                                         " bytes)");
  }
  const uint64_t limit = ref.fd_size ? ref.fd_size : b.size();
  const auto offset = static_cast<uint64_t>(ref.offset);
  if (offset > limit || limit - offset < info.byte_size) {
    throw ServiceError(wire::kErrFd, what + ": needs " + str(info.byte_size) + " bytes at offset " +
                                         str(offset) + " but the fd has " + str(limit) + " bytes");
  }
  if (is_output && !b.writable()) throw ServiceError(wire::kErrFd, what + ": the fd is not writable");
  if (!ref.dims.empty() && ref.dims != info.dims) {
    throw ServiceError(wire::kErrTensorMismatch, what + ": dims " + dims_str(ref.dims) +
                                                     " differ from the model's " + dims_str(info.dims));
  }
  if (!ref.pitches.empty() && ref.pitches != info.pitches) {
    throw ServiceError(wire::kErrTensorMismatch, what + ": pitches " + dims_str(ref.pitches) +
                                                     " differ from the model's " + dims_str(info.pitches));
  }
  if (ref.data_type != wire::kTypeUnspecified && ref.data_type != wire::kTypeInvalid &&
      ref.data_type != info.data_type) {
    throw ServiceError(wire::kErrTensorMismatch, what + ": data type " + data_type_name(ref.data_type) +
                                                     " differs from the model's " +
                                                     data_type_name(info.data_type));
  }
  if (ref.layout != wire::kLayoutUnspecified && ref.layout != wire::kLayoutInvalid &&
      info.layout != wire::kLayoutUnspecified && ref.layout != info.layout) {
    throw ServiceError(wire::kErrTensorMismatch, what + ": layout " + layout_name(ref.layout) +
                                                     " differs from the model's " + layout_name(info.layout));
  }
  JobTensor t;
  t.buffer = std::move(buffer);
  t.ref = ref;
  t.offset = offset;
  t.length = info.byte_size;
  return t;
}

std::string job_tensor_name(bool is_output, size_t index, const TensorInfo& info) {
  return std::string(is_output ? "output " : "input ") + str(index) + " ('" + info.name + "')";
}

void bind_job_tensors(const RunJobRequest& req, const LoadedModel& model, JobMemory& memory, Job& job) {
  for (int side = 0; side < 2; ++side) {
    const bool is_output = side == 1;
    const auto& refs = is_output ? req.outputs : req.inputs;
    const auto& infos = is_output ? model.outputs : model.inputs;
    auto& tensors = is_output ? job.outputs : job.inputs;
    for (size_t i = 0; i < refs.size(); ++i) {
      const std::string what = job_tensor_name(is_output, i, infos[i]);
      tensors.push_back(bind_job_tensor(refs[i], infos[i], memory.get(refs[i], what), is_output, what));
    }
  }
}

}  // namespace osprey::service
