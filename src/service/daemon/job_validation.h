// The checks a RUN_JOB request passes before its job is queued, kept apart
// from the server so they are testable without a daemon. Nothing a client
// says is trusted: fd indices, buffer ids, offsets and sizes are checked
// against the message and the memory itself, and what the client says a
// tensor holds (dims, pitches, type, layout) must agree with the model.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "service/daemon/buffer.h"
#include "service/daemon/device.h"
#include "service/protocol.h"

namespace osprey::service {

// Structure: every fd index is in range and every fd the message carries is
// used by some tensor. Throws ProtocolError (the session ends).
void check_job_fds(const RunJobRequest& req, size_t num_fds);

// Before any memory is touched: the priority is 0..100 and the job has as
// many inputs and outputs as the model. Throws ServiceError.
void check_job_shape(const RunJobRequest& req, const LoadedModel& model);

// The memory behind each tensor reference: a buffer of the session, or one
// of the message's fds (adopted once, however many tensors share it).
class JobMemory {
 public:
  JobMemory(const std::map<uint64_t, std::shared_ptr<Buffer>>& session_buffers,
            const std::vector<UniqueFd>& fds);
  // Throws ServiceError naming `what` (e.g. "input 0 ('x')").
  std::shared_ptr<Buffer> get(const TensorRef& ref, const std::string& what);

 private:
  const std::map<uint64_t, std::shared_ptr<Buffer>>& session_buffers_;
  const std::vector<UniqueFd>& fds_;
  std::vector<std::shared_ptr<Buffer>> adopted_;  // by fd index
};

// Checks that `buffer` holds the model's tensor `info` where `ref` says, and
// that `ref` agrees with the model; returns the job's view of the tensor.
// Throws ServiceError: kErrFd for memory problems, kErrTensorMismatch for
// disagreements with the model.
JobTensor bind_job_tensor(const TensorRef& ref, const TensorInfo& info, std::shared_ptr<Buffer> buffer,
                          bool is_output, const std::string& what);

// "input 0 ('name')": how messages name a job tensor.
std::string job_tensor_name(bool is_output, size_t index, const TensorInfo& info);

// Binds every input and output of `req` (after check_job_shape) into `job`.
void bind_job_tensors(const RunJobRequest& req, const LoadedModel& model, JobMemory& memory, Job& job);

}  // namespace osprey::service
