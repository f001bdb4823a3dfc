// C API: job requests and running them.
#include <cstring>

#include "service/client/handles.h"

using namespace osprey::service;
using namespace osprey::service::client;

namespace {

bool check_tensor_list(larodTensor** tensors, size_t n, size_t expected, const char* side,
                       larodError** error) {
  if (n != expected) {
    set_error(error, LAROD_ERROR_TENSOR_MISMATCH,
              "the model has " + std::to_string(expected) + " " + side + "s but " + std::to_string(n) +
                  " were given");
    return false;
  }
  if (n > kMaxTensors) return invalid(error, std::string("too many ") + side + " tensors");
  if (n && !tensors) return invalid(error, std::string(side) + " tensor array is NULL");
  for (size_t i = 0; i < n; ++i) {
    if (!tensors[i]) return invalid(error, std::string(side) + " tensor " + std::to_string(i) + " is NULL");
    const larodTensor* t = tensors[i];
    if (t->dims.len && t->pitches.len && t->dims.len != t->pitches.len) {
      return invalid(error, std::string(side) + " tensor " + std::to_string(i) +
                                ": dims and pitches have different lengths");
    }
  }
  return true;
}

// Describes a job tensor for the wire: memory the service knows by buffer
// id, anything else by an fd the message carries (each distinct fd once).
bool tensor_ref(larodConnection* conn, const larodTensor* t, const char* side, size_t index,
                std::vector<int>& fds, TensorRef& ref, larodError** error) {
  ref.offset = t->offset;
  ref.fd_size = t->fd_size;
  ref.props = t->props;
  ref.data_type = t->data_type;
  ref.layout = t->layout;
  ref.dims.assign(t->dims.dims, t->dims.dims + t->dims.len);
  ref.pitches.assign(t->pitches.pitches, t->pitches.pitches + t->pitches.len);
  if (t->tracked_id && t->tracked_serial == conn->serial && t->fd == t->tracked_fd) {
    ref.kind = TensorRef::kBuffer;
    ref.buffer_id = t->tracked_id;
    return true;
  }
  if (t->owned_id && t->owned_serial == conn->serial && t->fd == t->owned_fd) {
    ref.kind = TensorRef::kBuffer;
    ref.buffer_id = t->owned_id;
    return true;
  }
  if (t->fd < 0) {
    set_error(error, LAROD_ERROR_FD,
              std::string(side) + " tensor " + std::to_string(index) +
                  " has no file descriptor (set one with larodSetTensorFd or allocate with larodAllocModel" +
                  (std::strcmp(side, "input") == 0 ? "Inputs)" : "Outputs)"));
    return false;
  }
  if (conn->allocated.find(t->fd, ref.buffer_id)) {
    ref.kind = TensorRef::kBuffer;
    return true;
  }
  ref.kind = TensorRef::kFd;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i] == t->fd) {
      ref.fd_index = static_cast<uint32_t>(i);
      return true;
    }
  }
  if (fds.size() >= kMaxFds) {
    set_error(error, LAROD_ERROR_FD, "the job uses more than " + std::to_string(kMaxFds) + " distinct fds");
    return false;
  }
  ref.fd_index = static_cast<uint32_t>(fds.size());
  fds.push_back(t->fd);
  return true;
}

bool job_request(larodConnection* conn, const larodJobRequest* job, RunJobRequest& req, std::vector<int>& fds,
                 larodError** error) {
  if (!conn) return invalid(error, "conn is NULL");
  if (!job) return invalid(error, "jobReq is NULL");
  req.model_id = job->model_id;
  req.priority = job->priority;
  req.params = job->params;
  for (int side = 0; side < 2; ++side) {
    const auto& tensors = side == 0 ? job->inputs : job->outputs;
    auto& refs = side == 0 ? req.inputs : req.outputs;
    for (size_t i = 0; i < tensors.size(); ++i) {
      TensorRef ref;
      if (!tensor_ref(conn, tensors[i], side == 0 ? "input" : "output", i, fds, ref, error)) return false;
      refs.push_back(std::move(ref));
    }
  }
  return true;
}

// The completion of larodRunJobAsync, on the callback thread.
void finish_async_job(larodRunJobCallback callback, void* user, const Message* reply,
                      const std::string& failure) noexcept {
  larodError* err = nullptr;
  try {
    if (std::optional<Reader> body = reply_body(reply, failure, &err)) decode<NoFields>(*body);
  } catch (...) {
    report_current_exception(&err);
  }
  if (callback) callback(user, err);
  free_error(err);
}

}  // namespace

extern "C" {

larodJobRequest* larodCreateJobRequest(const larodModel* model, larodTensor** inTensors,
                                       const size_t numInTensors, larodTensor** outTensors,
                                       const size_t numOutTensors, larodMap* params, larodError** error) {
  return guarded(error, [&]() -> larodJobRequest* {
    if (!model) {
      invalid(error, "model is NULL");
      return nullptr;
    }
    if (!check_tensor_list(inTensors, numInTensors, model->inputs.size(), "input", error) ||
        !check_tensor_list(outTensors, numOutTensors, model->outputs.size(), "output", error)) {
      return nullptr;
    }
    auto req = std::make_unique<larodJobRequest>();
    req->model_id = model->id;
    req->model_inputs = model->inputs.size();
    req->model_outputs = model->outputs.size();
    req->inputs.assign(inTensors, inTensors + numInTensors);
    req->outputs.assign(outTensors, outTensors + numOutTensors);
    if (params) req->params = params->map;
    return req.release();
  });
}

void larodDestroyJobRequest(larodJobRequest** jobReq) {
  guarded_void([&] {
    if (!jobReq || !*jobReq) return;
    delete *jobReq;
    *jobReq = nullptr;
  });
}

bool larodSetJobRequestModel(larodJobRequest* jobReq, const larodModel* model, larodError** error) {
  return guarded(error, [&] {
    if (!jobReq) return invalid(error, "jobReq is NULL");
    if (!model) return invalid(error, "model is NULL");
    jobReq->model_id = model->id;
    jobReq->model_inputs = model->inputs.size();
    jobReq->model_outputs = model->outputs.size();
    return true;
  });
}

bool larodSetJobRequestInputs(larodJobRequest* jobReq, larodTensor** tensors, const size_t numTensors,
                              larodError** error) {
  return guarded(error, [&] {
    if (!jobReq) return invalid(error, "jobReq is NULL");
    if (!check_tensor_list(tensors, numTensors, jobReq->model_inputs, "input", error)) return false;
    jobReq->inputs.assign(tensors, tensors + numTensors);
    return true;
  });
}

bool larodSetJobRequestOutputs(larodJobRequest* jobReq, larodTensor** tensors, const size_t numTensors,
                               larodError** error) {
  return guarded(error, [&] {
    if (!jobReq) return invalid(error, "jobReq is NULL");
    if (!check_tensor_list(tensors, numTensors, jobReq->model_outputs, "output", error)) return false;
    jobReq->outputs.assign(tensors, tensors + numTensors);
    return true;
  });
}

bool larodSetJobRequestPriority(larodJobRequest* jobReq, const uint8_t priority, larodError** error) {
  return guarded(error, [&] {
    if (!jobReq) return invalid(error, "jobReq is NULL");
    if (priority > 100) return invalid(error, "priority must be 0..100");
    jobReq->priority = priority;
    return true;
  });
}

bool larodSetJobRequestParams(larodJobRequest* jobReq, const larodMap* params, larodError** error) {
  return guarded(error, [&] {
    if (!jobReq) return invalid(error, "jobReq is NULL");
    jobReq->params = params ? params->map : ParamMap{};
    return true;
  });
}

bool larodRunJob(larodConnection* conn, const larodJobRequest* jobReq, larodError** error) {
  return guarded(error, [&] {
    RunJobRequest req;
    std::vector<int> fds;
    if (!job_request(conn, jobReq, req, fds, error)) return false;
    return call(conn, req, fds, nullptr, error);
  });
}

bool larodRunJobAsync(larodConnection* conn, const larodJobRequest* jobReq, larodRunJobCallback callback,
                      void* userData, larodError** error) {
  return guarded(error, [&] {
    RunJobRequest req;
    std::vector<int> fds;
    if (!job_request(conn, jobReq, req, fds, error)) return false;
    auto done = [callback, userData](const Message* reply, const std::string& why) {
      finish_async_job(callback, userData, reply, why);
    };
    return call_async(conn, req, fds, done, error);
  });
}

}  // extern "C"
