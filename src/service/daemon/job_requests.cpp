// RUN_JOB: a validated job goes to its model's device; the device reports
// back through on_job_done, which replies to the client.
#include "core/error.h"
#include "service/daemon/job_validation.h"
#include "service/daemon/log.h"
#include "service/daemon/server_internal.h"

namespace osprey::service {

void Server::on_run_job(Session& s, Message& m) {
  auto req = decode<RunJobRequest>(m);
  check_job_fds(req, m.fds.size());
  std::shared_ptr<ModelHandle> h = find_model(s, req.model_id);
  Job job;
  try {
    if (!h) throw ServiceError(wire::kErrModelNotFound, "no model with id " + str(req.model_id));
    check_job_shape(req, *h->model);
    if (s.outstanding.load() >= kMaxOutstandingJobs) {
      throw ServiceError(wire::kErrJob, "the session has " + str(static_cast<uint64_t>(kMaxOutstandingJobs)) +
                                            " jobs queued (the limit); wait for some to finish");
    }
    JobMemory memory(s.buffers, m.fds);
    bind_job_tensors(req, *h->model, memory, job);
  } catch (const ServiceError& e) {
    log_event(kLogErr, "job_failed",
              {{"session", str(s.id)},
               {"pid", str(static_cast<uint64_t>(s.pid))},
               {"model", str(req.model_id)},
               {"device", h ? h->device->label() : "?"},
               {"code", status_name(e.status())},
               {"error", e.what()}});
    return reply_error(s, m, e.status(), e.what());
  }
  job.request_id = m.header.id;
  job.priority = req.priority;
  job.model = h;
  job.params = std::move(req.params);
  job.session = s.shared_from_this();
  s.outstanding++;
  if (!h->device->try_run_inline(job)) h->device->submit(std::move(job));
}

void Server::on_job_done(Job& job, int32_t status, const std::string& message) {
  Session& s = *job.session;
  s.outstanding--;
  if (status != wire::kOk && status != wire::kErrConnection) {
    log_event(kLogErr, "job_failed",
              {{"session", str(s.id)},
               {"pid", str(static_cast<uint64_t>(s.pid))},
               {"model", str(job.model->id)},
               {"name", job.model->name},
               {"device", job.model->device->label()},
               {"code", status_name(status)},
               {"error", message}});
  } else if (log_enabled(kLogDebug)) {
    log_event(kLogDebug, "job_done",
              {{"session", str(s.id)}, {"model", str(job.model->id)}, {"status", status_name(status)}});
  }
  if (s.closed.load()) return;
  s.send(static_cast<uint16_t>(static_cast<uint16_t>(Msg::kRunJob) | kReplyBit), job.request_id,
         encode_status_reply(status, message));
}

}  // namespace osprey::service
