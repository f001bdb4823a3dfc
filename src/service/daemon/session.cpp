// A session's outbox (Session) and the connection thread that serves it.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "service/daemon/log.h"
#include "service/daemon/server_internal.h"

namespace osprey::service {

bool Session::send(uint16_t type, uint64_t id, const std::vector<uint8_t>& payload,
                   const std::vector<int>& fds) {
  std::lock_guard<std::mutex> lock(send_mu_);
  if (broken_) return false;
  if (outbox_.empty()) {
    int err = send_message(sock.get(), type, id, payload, fds.data(), fds.size(), true);
    if (err == 0) return true;
    if (err != EAGAIN) {
      broken_ = true;
      ::shutdown(sock.get(), SHUT_RDWR);
      return false;
    }
  }
  Outgoing out{type, id, payload, {}};
  for (int fd : fds) out.fds.emplace_back(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  outbox_.push_back(std::move(out));
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake.get(), &one, sizeof(one));
  return true;
}

bool Session::flush() {
  std::lock_guard<std::mutex> lock(send_mu_);
  while (!outbox_.empty() && !broken_) {
    Outgoing& out = outbox_.front();
    std::vector<int> fds;
    for (const auto& fd : out.fds) fds.push_back(fd.get());
    int err = send_message(sock.get(), out.type, out.id, out.payload, fds.data(), fds.size(), true);
    if (err == EAGAIN) return true;
    if (err != 0) {
      broken_ = true;
      return false;
    }
    outbox_.pop_front();
  }
  return !broken_;
}

bool Session::outbox_empty() {
  std::lock_guard<std::mutex> lock(send_mu_);
  return outbox_.empty();
}

// ---- Connection thread ----------------------------------------------------

void Server::serve(std::shared_ptr<Session> session, std::shared_ptr<std::atomic<bool>> done) {
  Session& s = *session;
  std::string reason = "client disconnected";
  for (;;) {
    const bool pending = !s.outbox_empty();
    // While replies wait in the outbox, stop reading requests: a client that
    // does not read its replies only stalls itself.
    pollfd fds[2] = {{s.sock.get(), static_cast<short>(pending ? POLLOUT : POLLIN), 0},
                     {s.wake.get(), POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      reason = std::string("poll: ") + std::strerror(errno);
      break;
    }
    if (fds[1].revents & POLLIN) {
      uint64_t v;
      [[maybe_unused]] ssize_t r = ::read(s.wake.get(), &v, sizeof(v));
    }
    const short ev = fds[0].revents;
    if (ev & POLLOUT) {
      if (!s.flush()) {
        reason = "sending to the client failed";
        break;
      }
    }
    if (ev & POLLIN) {
      Message m;
      std::string error;
      RecvResult r = recv_message(s.sock.get(), m, error, true);
      if (r == RecvResult::kAgain) continue;
      if (r == RecvResult::kEof) break;
      if (r == RecvResult::kError) {
        reason = error;
        break;
      }
      if (r == RecvResult::kMalformed) {
        log_event(kLogWarning, "protocol_error", {{"session", str(s.id)}, {"error", error}});
        reason = "protocol error: " + error;
        break;
      }
      if (!handle(s, m)) {
        reason = "protocol error";
        break;
      }
      continue;
    }
    if (ev & (POLLHUP | POLLERR | POLLNVAL)) break;
  }
  close_session(s, reason);
  done->store(true);
}

void Server::close_session(Session& s, const std::string& reason) {
  s.closed = true;
  ::shutdown(s.sock.get(), SHUT_RDWR);
  const int freed_models = free_models_of(s);
  const size_t freed_buffers = s.buffers.size();
  s.buffers.clear();  // jobs still queued hold their own references
  live_sessions_--;
  log_event(kLogInfo, "session_closed",
            {{"session", str(s.id)},
             {"pid", str(static_cast<uint64_t>(s.pid))},
             {"reason", reason},
             {"models_freed", str(static_cast<uint64_t>(freed_models))},
             {"buffers_freed", str(freed_buffers)},
             {"jobs_in_flight", str(static_cast<uint64_t>(s.outstanding.load()))}});
}

}  // namespace osprey::service
