// Tensor memory a session holds: ALLOC_TENSORS (memfds the service makes for
// a model's inputs or outputs), TRACK_BUFFER (a client fd kept open for
// later jobs) and RELEASE_BUFFERS.
#include "service/daemon/log.h"
#include "service/daemon/server_internal.h"

namespace osprey::service {

void Server::on_alloc_tensors(Session& s, const Message& m) {
  const auto req = decode<AllocTensorsRequest>(m);
  auto h = find_model(s, req.model_id);
  if (!h) return reply_error(s, m, wire::kErrModelNotFound, "no model with id " + str(req.model_id));
  auto fail_alloc = [&](const std::string& error) {
    log_event(kLogErr, "alloc_failed",
              {{"session", str(s.id)}, {"model", str(req.model_id)}, {"error", error}});
    reply_error(s, m, wire::kErrAlloc, error);
  };
  if (req.props & ~wire::kPropAll) return fail_alloc("unknown fd property flags " + str(req.props));
  if (!req.params.empty())
    return fail_alloc("allocation takes no parameters (got '" + req.params.begin()->first + "')");
  const auto& infos = req.outputs ? h->model->outputs : h->model->inputs;
  if (s.buffers.size() + infos.size() > kMaxBuffersPerSession) {
    return fail_alloc("the session has " + str(s.buffers.size()) + " buffers (limit " +
                      str(kMaxBuffersPerSession) + ")");
  }
  std::unique_lock<std::mutex> fd_share(fd_share_mu_);
  if (const std::string shortage = fd_shortage(infos.size()); !shortage.empty()) return fail_alloc(shortage);
  uint64_t total = 0;
  for (const auto& info : infos) {
    if (info.byte_size > kMaxTensorBytes)
      return fail_alloc("tensor '" + info.name + "' is too large to allocate");
    total += info.byte_size;
  }
  if (s.buffer_bytes + total > kMaxBufferBytesPerSession) {
    return fail_alloc("allocating " + str(total) + " more bytes exceeds the session limit of " +
                      str(kMaxBufferBytesPerSession));
  }
  std::vector<std::shared_ptr<Buffer>> made;
  for (const auto& info : infos) {
    auto charge = budget_.reserve(info.byte_size);
    if (!charge) return fail_alloc("tensor '" + info.name + "' " + budget_.refusal(info.byte_size));
    std::string error;
    auto b = Buffer::allocate(static_cast<size_t>(info.byte_size), info.name, error);
    if (!b)
      return fail_alloc("allocating " + str(info.byte_size) + " bytes for '" + info.name + "': " + error);
    b->charge = std::move(*charge);
    made.push_back(std::move(b));
  }
  fd_share.unlock();
  AllocTensorsReply reply;
  std::vector<int> fds;
  for (auto& b : made) {
    const uint64_t id = s.next_buffer_id++;
    s.buffer_bytes += b->size();
    s.buffers[id] = b;
    reply.buffers.push_back({id, b->size(), b->props()});
    fds.push_back(b->fd());
  }
  reply_ok(s, m, reply, fds);
}

void Server::on_track_buffer(Session& s, Message& m) {
  const auto req = decode<TrackBufferRequest>(m);
  if (m.fds.size() != 1) throw ProtocolError("TRACK_BUFFER carries one file descriptor");
  if (req.props & ~wire::kPropAll)
    return reply_error(s, m, wire::kErrFd, "unknown fd property flags " + str(req.props));
  if (s.buffers.size() >= kMaxBuffersPerSession) {
    return reply_error(s, m, wire::kErrFd,
                       "the session has " + str(s.buffers.size()) + " buffers (the limit)");
  }
  std::unique_lock<std::mutex> fd_share(fd_share_mu_);
  if (const std::string shortage = fd_shortage(1); !shortage.empty())
    return reply_error(s, m, wire::kErrFd, "cannot track the tensor fd: " + shortage);
  std::string error;
  auto b = Buffer::adopt(std::move(m.fds[0]), req.props, error);
  fd_share.unlock();
  if (!b) return reply_error(s, m, wire::kErrFd, "cannot track the tensor fd: " + error);
  const uint64_t id = s.next_buffer_id++;
  s.buffers[id] = b;
  reply_ok(s, m, TrackBufferReply{id, b->size()});
}

void Server::on_release_buffers(Session& s, const Message& m) {
  const auto req = decode<ReleaseBuffersRequest>(m);
  std::string unknown;
  for (uint64_t id : req.buffer_ids) {
    auto it = s.buffers.find(id);
    if (it == s.buffers.end()) {
      append_item(unknown, str(id));
      continue;
    }
    if (it->second->sealed() && s.buffer_bytes >= it->second->size()) s.buffer_bytes -= it->second->size();
    s.buffers.erase(it);
  }
  if (!unknown.empty()) return reply_error(s, m, wire::kErrFd, "unknown buffer ids: " + unknown);
  reply_ok(s, m, NoFields{});
}

}  // namespace osprey::service
