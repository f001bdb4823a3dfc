#include "service/daemon/server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "service/daemon/buffer.h"
#include "service/daemon/device.h"
#include "service/daemon/log.h"
#include "service/daemon/session.h"
#include "service/protocol.h"

namespace osprey::service {

// ---- Session -------------------------------------------------------------

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

namespace {

constexpr size_t kMaxModelsPerSession = 256;
constexpr size_t kMaxBuffersPerSession = 4096;
constexpr uint64_t kMaxBufferBytesPerSession = uint64_t{4} << 30;
constexpr uint64_t kMaxTensorBytes = uint64_t{1} << 30;
constexpr int kMaxOutstandingJobs = 1024;
constexpr uint64_t kMaxModelFileBytes = uint64_t{512} << 20;

std::string str(uint64_t v) {
  return std::to_string(v);
}
std::string errno_str(int e) {
  return std::strerror(e);
}

void append_item(std::string& list, const std::string& item, const char* sep = ", ") {
  if (!list.empty()) list += sep;
  list += item;
}

// Reads the whole model file behind `fd` (a regular file only: reading a pipe
// could block the session forever).
std::vector<uint8_t> read_model_file(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0)
    throw ServiceError(wire::kErrLoadModel, "cannot stat the model fd: " + errno_str(errno));
  if (!S_ISREG(st.st_mode)) throw ServiceError(wire::kErrLoadModel, "the model fd is not a regular file");
  if (st.st_size == 0) throw ServiceError(wire::kErrLoadModel, "the model file is empty");
  if (static_cast<uint64_t>(st.st_size) > kMaxModelFileBytes) {
    throw ServiceError(wire::kErrLoadModel, "the model file has " + str(static_cast<uint64_t>(st.st_size)) +
                                                " bytes, more than the limit of " + str(kMaxModelFileBytes));
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ServiceError(wire::kErrLoadModel, "reading the model file failed: " + errno_str(errno));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  if (bytes.empty()) throw ServiceError(wire::kErrLoadModel, "the model file is empty");
  return bytes;
}

std::string content_key(const std::string& device, const std::vector<uint8_t>* bytes,
                        const ParamMap& params) {
  uint64_t fnv = 1469598103934665603ull;
  size_t n = 0;
  if (bytes) {
    for (uint8_t b : *bytes) fnv = (fnv ^ b) * 1099511628211ull;
    n = bytes->size();
  }
  const size_t h2 = bytes ? std::hash<std::string_view>()(
                                std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()))
                          : 0;
  std::string key = device + "|" + str(fnv) + "|" + str(h2) + "|" + str(n);
  for (const auto& [k, v] : params) key += "|" + k + "=" + std::to_string(v.type) + ":" + map_value_str(v);
  return key;
}

std::string dims_str(const std::vector<uint64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + str(d[i]);
  return s + "]";
}

class Server {
 public:
  explicit Server(const ServerOptions& options) : options_(options) {}
  int run();

 private:
  struct SessionEntry {
    std::shared_ptr<Session> session;
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  bool open_socket();
  void accept_one();
  void reap(bool all);
  void serve(std::shared_ptr<Session> session, std::shared_ptr<std::atomic<bool>> done);
  // Returns false when the connection must close.
  bool handle(Session& s, Message& m);
  void close_session(Session& s, const std::string& reason);
  void reply(Session& s, const Message& req, int32_t status, const std::string& message,
             const std::function<void(Writer&)>& body = {}, const std::vector<int>& fds = {});

  void on_hello(Session& s, const Message& m);
  void on_list_devices(Session& s, const Message& m);
  void on_load_model(Session& s, Message& m);
  void on_get_models(Session& s, const Message& m);
  void on_get_model(Session& s, const Message& m);
  void on_delete_model(Session& s, const Message& m);
  void on_alloc_tensors(Session& s, const Message& m);
  void on_track_buffer(Session& s, Message& m);
  void on_release_buffers(Session& s, const Message& m);
  void on_run_job(Session& s, Message& m);
  void on_num_sessions(Session& s, const Message& m);
  void on_stats(Session& s, const Message& m);
  void on_test_hook(Session& s, const Message& m);
  void on_job_done(Job& job, int32_t status, const std::string& message);

  Device* find_device(const std::string& name, uint32_t instance);
  std::shared_ptr<ModelHandle> find_model(const Session& s, uint64_t id);
  ModelInfo info_of(const ModelHandle& h);

  ServerOptions options_;
  UniqueFd listen_fd_;
  UniqueFd signal_fd_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::map<uint64_t, SessionEntry> sessions_;  // main thread only
  std::atomic<uint64_t> live_sessions_{0};
  uint64_t next_session_id_ = 1;

  std::mutex models_mu_;
  std::map<uint64_t, std::shared_ptr<ModelHandle>> models_;
  std::map<std::string, std::weak_ptr<LoadedModel>> model_cache_;
  uint64_t next_model_id_ = 1;
};

// ---- Socket and main loop -------------------------------------------------

bool make_parent_dirs(const std::string& path) {
  for (size_t pos = 1; (pos = path.find('/', pos)) != std::string::npos; ++pos) {
    std::string dir = path.substr(0, pos);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      log_event(kLogErr, "socket_failed", {{"path", dir}, {"error", "mkdir: " + errno_str(errno)}});
      return false;
    }
  }
  return true;
}

bool Server::open_socket() {
  const std::string& path = options_.socket_path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    log_event(kLogErr, "socket_failed", {{"path", path}, {"error", "socket path is empty or too long"}});
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (!make_parent_dirs(path)) return false;

  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      log_event(kLogErr, "socket_failed", {{"path", path}, {"error", "path exists and is not a socket"}});
      return false;
    }
    // A socket file: is a daemon still listening on it?
    UniqueFd probe(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (probe && ::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      log_event(kLogErr, "socket_failed",
                {{"path", path}, {"error", "another ospreyd is already listening"}});
      return false;
    }
    ::unlink(path.c_str());  // stale, from a daemon that died
  }

  listen_fd_.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!listen_fd_) {
    log_event(kLogErr, "socket_failed", {{"path", path}, {"error", "socket: " + errno_str(errno)}});
    return false;
  }
  // Owner and group may connect, nobody else (0660); no window where the
  // socket is more open than that.
  mode_t old = ::umask(0117);
  int rc = ::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int bind_errno = errno;
  ::umask(old);
  if (rc != 0) {
    log_event(kLogErr, "socket_failed", {{"path", path}, {"error", "bind: " + errno_str(bind_errno)}});
    return false;
  }
  ::chmod(path.c_str(), 0660);
  if (::listen(listen_fd_.get(), 64) != 0) {
    log_event(kLogErr, "socket_failed", {{"path", path}, {"error", "listen: " + errno_str(errno)}});
    return false;
  }
  return true;
}

int Server::run() {
  // Signals arrive through a signalfd; every thread inherits the mask.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  ::pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  install_fault_handler();
  signal_fd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC));

  if (!open_socket()) return 1;

  try {
    devices_.push_back(make_tflite_device(options_.backend, options_.threads));
  } catch (const osprey::Error& e) {
    log_event(kLogErr, "start_failed", {{"error", e.what()}});
    ::unlink(options_.socket_path.c_str());
    return 1;
  }
  devices_.push_back(make_proc_device());
  std::string names;
  for (auto& d : devices_) {
    d->start(
        [this](Job& job, int32_t status, const std::string& message) { on_job_done(job, status, message); });
    append_item(names, d->label(), ",");
  }
  log_event(kLogNotice, "started",
            {{"socket", options_.socket_path},
             {"pid", str(static_cast<uint64_t>(::getpid()))},
             {"devices", names},
             {"backend", options_.backend},
             {"protocol", str(kProtocolVersion)}});

  int exit_code = 0;
  for (;;) {
    pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {signal_fd_.get(), POLLIN, 0}};
    int n = ::poll(fds, 2, 1000);
    if (n < 0 && errno != EINTR) {
      log_event(kLogErr, "poll_failed", {{"error", errno_str(errno)}});
      exit_code = 1;
      break;
    }
    if (n > 0 && (fds[1].revents & POLLIN)) {
      signalfd_siginfo si;
      [[maybe_unused]] ssize_t r = ::read(signal_fd_.get(), &si, sizeof(si));
      log_event(kLogNotice, "stopping", {{"signal", str(si.ssi_signo)}});
      break;
    }
    if (n > 0 && (fds[0].revents & POLLIN)) accept_one();
    reap(false);
  }

  ::unlink(options_.socket_path.c_str());
  listen_fd_.reset();
  for (auto& [id, e] : sessions_) ::shutdown(e.session->sock.get(), SHUT_RDWR);
  reap(true);
  for (auto& d : devices_) d->stop();
  log_event(kLogNotice, "stopped", {});
  return exit_code;
}

void Server::accept_one() {
  UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd) {
    if (errno != EAGAIN && errno != EINTR)
      log_event(kLogWarning, "accept_failed", {{"error", errno_str(errno)}});
    return;
  }
  ucred cred{};
  socklen_t len = sizeof(cred);
  ::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len);
  if (live_sessions_.load() >= static_cast<uint64_t>(options_.max_sessions)) {
    log_event(kLogWarning, "session_refused",
              {{"pid", str(static_cast<uint64_t>(cred.pid))},
               {"reason", "too many sessions"},
               {"limit", str(static_cast<uint64_t>(options_.max_sessions))}});
    return;  // closing the fd tells the client
  }
  auto s = std::make_shared<Session>();
  s->id = next_session_id_++;
  s->sock = std::move(fd);
  s->wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  s->pid = cred.pid;
  s->uid = cred.uid;
  s->gid = cred.gid;
  auto done = std::make_shared<std::atomic<bool>>(false);
  live_sessions_++;
  log_event(kLogInfo, "session_opened",
            {{"session", str(s->id)},
             {"pid", str(static_cast<uint64_t>(cred.pid))},
             {"uid", str(static_cast<uint64_t>(cred.uid))}});
  SessionEntry entry{s, {}, done};
  entry.thread = std::thread([this, s, done] { serve(s, done); });
  sessions_.emplace(s->id, std::move(entry));
}

void Server::reap(bool all) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (all || it->second.done->load()) {
      if (it->second.thread.joinable()) it->second.thread.join();
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
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
      reason = "poll: " + errno_str(errno);
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
  int freed_models = 0;
  {
    std::lock_guard<std::mutex> lock(models_mu_);
    for (auto it = models_.begin(); it != models_.end();) {
      if (it->second->owner_session == s.id) {
        it->second->deleted = true;
        it = models_.erase(it);
        ++freed_models;
      } else {
        ++it;
      }
    }
  }
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

void Server::reply(Session& s, const Message& req, int32_t status, const std::string& message,
                   const std::function<void(Writer&)>& body, const std::vector<int>& fds) {
  Writer w;
  write_status(w, status, message);
  if (status == wire::kOk && body) body(w);
  s.send(static_cast<uint16_t>(req.header.type | kReplyBit), req.header.id, w.bytes(),
         status == wire::kOk ? fds : std::vector<int>{});
}

bool Server::handle(Session& s, Message& m) {
  const auto type = static_cast<Msg>(m.header.type);
  if (m.header.version != kProtocolVersion) {
    log_event(kLogWarning, "protocol_error",
              {{"session", str(s.id)},
               {"error",
                "protocol version " + str(m.header.version) + ", ospreyd speaks " + str(kProtocolVersion)}});
    reply(s, m, wire::kErrVersionMismatch,
          "client protocol version " + str(m.header.version) + " does not match ospreyd's " +
              str(kProtocolVersion));
    return false;
  }
  if (!s.hello && type != Msg::kHello) {
    log_event(kLogWarning, "protocol_error",
              {{"session", str(s.id)}, {"error", "first message is not HELLO"}});
    reply(s, m, wire::kErrConnection, "protocol error: the first message must be HELLO");
    return false;
  }
  // Only these requests may carry file descriptors.
  const bool fds_ok = type == Msg::kLoadModel || type == Msg::kTrackBuffer || type == Msg::kRunJob;
  if (!fds_ok && !m.fds.empty()) {
    log_event(kLogWarning, "protocol_error",
              {{"session", str(s.id)}, {"error", "unexpected file descriptors"}});
    reply(s, m, wire::kErrConnection, "protocol error: this request carries no file descriptors");
    return false;
  }
  try {
    switch (type) {
      case Msg::kHello: on_hello(s, m); break;
      case Msg::kListDevices: on_list_devices(s, m); break;
      case Msg::kLoadModel: on_load_model(s, m); break;
      case Msg::kGetModels: on_get_models(s, m); break;
      case Msg::kGetModel: on_get_model(s, m); break;
      case Msg::kDeleteModel: on_delete_model(s, m); break;
      case Msg::kAllocTensors: on_alloc_tensors(s, m); break;
      case Msg::kTrackBuffer: on_track_buffer(s, m); break;
      case Msg::kReleaseBuffers: on_release_buffers(s, m); break;
      case Msg::kRunJob: on_run_job(s, m); break;
      case Msg::kNumSessions: on_num_sessions(s, m); break;
      case Msg::kStats: on_stats(s, m); break;
      case Msg::kTestPauseDevice:
      case Msg::kTestResumeDevice:
        if (!options_.test_hooks)
          throw ProtocolError("test hooks are disabled (start ospreyd with --test-hooks)");
        on_test_hook(s, m);
        break;
      default: throw ProtocolError("unknown request type " + str(m.header.type));
    }
  } catch (const ProtocolError& e) {
    log_event(kLogWarning, "protocol_error",
              {{"session", str(s.id)}, {"request", str(m.header.type)}, {"error", e.what()}});
    reply(s, m, wire::kErrConnection, std::string("protocol error: ") + e.what());
    return false;
  }
  return true;
}

// ---- Requests -------------------------------------------------------------

void Server::on_hello(Session& s, const Message& m) {
  Reader r = m.reader();
  std::string client = r.str();
  r.expect_end();
  if (s.hello) throw ProtocolError("HELLO sent twice");
  s.hello = true;
  log_event(kLogDebug, "hello", {{"session", str(s.id)}, {"client", client}});
  reply(s, m, wire::kOk, "", [&](Writer& w) {
    w.u64(s.id);
    w.str("ospreyd 0.1.0");
  });
}

void Server::on_list_devices(Session& s, const Message& m) {
  m.reader().expect_end();
  reply(s, m, wire::kOk, "", [&](Writer& w) {
    w.u32(static_cast<uint32_t>(devices_.size()));
    for (auto& d : devices_) {
      w.str(d->name());
      w.u32(d->instance());
    }
  });
}

Device* Server::find_device(const std::string& name, uint32_t instance) {
  for (auto& d : devices_) {
    if (d->name() == name && d->instance() == instance) return d.get();
  }
  return nullptr;
}

std::shared_ptr<ModelHandle> Server::find_model(const Session& s, uint64_t id) {
  std::lock_guard<std::mutex> lock(models_mu_);
  auto it = models_.find(id);
  if (it == models_.end()) return nullptr;
  const ModelHandle& h = *it->second;
  const bool visible = h.owner_session == s.id || h.access == wire::kAccessPublic ||
                       (h.access == wire::kAccessUserProtected && h.owner_uid == s.uid);
  return visible ? it->second : nullptr;  // other sessions' private models do not exist for s
}

ModelInfo Server::info_of(const ModelHandle& h) {
  ModelInfo info;
  info.id = h.id;
  info.name = h.name;
  info.device = h.device->name();
  info.instance = h.device->instance();
  info.access = h.access;
  info.size = h.model->size;
  info.inputs = h.model->inputs;
  info.outputs = h.model->outputs;
  return info;
}

void Server::on_load_model(Session& s, Message& m) {
  Reader r = m.reader();
  const bool has_fd = r.u8() != 0;
  const std::string device_name = r.str();
  const uint32_t instance = r.u32();
  const uint32_t access = r.u32();
  const std::string name = r.str(256);
  const ParamMap params = read_map(r);
  r.expect_end();
  if (m.fds.size() != (has_fd ? 1u : 0u)) throw ProtocolError("LOAD_MODEL fd count does not match its flag");

  auto fail_load = [&](int32_t status, const std::string& error) {
    log_event(kLogErr, "load_failed",
              {{"session", str(s.id)},
               {"pid", str(static_cast<uint64_t>(s.pid))},
               {"device", device_name + ":" + str(instance)},
               {"name", name},
               {"code", status_name(status)},
               {"error", error}});
    reply(s, m, status, error);
  };

  if (access != wire::kAccessPrivate && access != wire::kAccessPublic &&
      access != wire::kAccessUserProtected) {
    return fail_load(wire::kErrInvalidAccess, "invalid access mode " + str(access));
  }
  Device* device = find_device(device_name, instance);
  if (!device) {
    std::string known;
    for (auto& d : devices_) append_item(known, d->label());
    return fail_load(wire::kErrInvalidChipId, "no device '" + device_name + "' instance " + str(instance) +
                                                  " (devices: " + known + ")");
  }
  {
    std::lock_guard<std::mutex> lock(models_mu_);
    size_t owned = 0;
    for (auto& [id, h] : models_) owned += h->owner_session == s.id;
    if (owned >= kMaxModelsPerSession) {
      return fail_load(wire::kErrLoadModel,
                       "the session already has " + str(owned) + " models loaded (the limit)");
    }
  }

  std::shared_ptr<LoadedModel> model;
  bool shared = false;
  try {
    std::vector<uint8_t> bytes;
    if (has_fd) bytes = read_model_file(m.fds[0].get());
    const std::vector<uint8_t>* bytes_ptr = has_fd ? &bytes : nullptr;
    const std::string key = content_key(device->label(), bytes_ptr, params);
    {
      std::lock_guard<std::mutex> lock(models_mu_);
      auto it = model_cache_.find(key);
      if (it != model_cache_.end()) model = it->second.lock();
    }
    if (model) {
      shared = true;
    } else {
      model = device->load(bytes_ptr, params, name.empty() ? "model" : name);
      std::lock_guard<std::mutex> lock(models_mu_);
      for (auto it = model_cache_.begin(); it != model_cache_.end();) {
        it = it->second.expired() ? model_cache_.erase(it) : std::next(it);
      }
      model_cache_[key] = model;
    }
  } catch (const ServiceError& e) {
    return fail_load(e.status(), e.what());
  } catch (const osprey::Error& e) {
    return fail_load(wire::kErrLoadModel, e.what());
  } catch (const std::bad_alloc&) {
    return fail_load(wire::kErrLoadModel, "out of memory while loading the model");
  }
  if (model->inputs.size() > kMaxTensors || model->outputs.size() > kMaxTensors) {
    return fail_load(wire::kErrLoadModel, "the model has " + str(model->inputs.size()) + " inputs and " +
                                              str(model->outputs.size()) +
                                              " outputs; the service handles at most " + str(kMaxTensors) +
                                              " each");
  }

  auto h = std::make_shared<ModelHandle>();
  h->name = name;
  h->access = access;
  h->owner_session = s.id;
  h->owner_uid = s.uid;
  h->device = device;
  h->model = model;
  {
    std::lock_guard<std::mutex> lock(models_mu_);
    h->id = next_model_id_++;
    models_[h->id] = h;
  }
  log_event(kLogInfo, "model_loaded",
            {{"session", str(s.id)},
             {"model", str(h->id)},
             {"name", name},
             {"device", device->label()},
             {"access", str(access)},
             {"bytes", str(model->size)},
             {"shared", shared ? "yes" : "no"}});
  reply(s, m, wire::kOk, "", [&](Writer& w) { write_model_info(w, info_of(*h)); });
}

void Server::on_get_models(Session& s, const Message& m) {
  m.reader().expect_end();
  std::vector<ModelInfo> infos;
  {
    std::lock_guard<std::mutex> lock(models_mu_);
    for (auto& [id, h] : models_) {
      const bool visible = h->owner_session == s.id || h->access == wire::kAccessPublic ||
                           (h->access == wire::kAccessUserProtected && h->owner_uid == s.uid);
      if (visible) infos.push_back(info_of(*h));
    }
  }
  // Keep the reply within one message: the model list is truncated (rarely
  // matters: a session sees its own models plus public ones).
  Writer body;
  uint32_t count = 0;
  Writer items;
  for (const auto& info : infos) {
    Writer one;
    write_model_info(one, info);
    if (items.bytes().size() + one.bytes().size() + 256 > kMaxMessage) break;
    items.bytes().insert(items.bytes().end(), one.bytes().begin(), one.bytes().end());
    ++count;
  }
  reply(s, m, wire::kOk, "", [&](Writer& w) {
    w.u32(count);
    w.bytes().insert(w.bytes().end(), items.bytes().begin(), items.bytes().end());
  });
}

void Server::on_get_model(Session& s, const Message& m) {
  Reader r = m.reader();
  const uint64_t id = r.u64();
  r.expect_end();
  auto h = find_model(s, id);
  if (!h) return reply(s, m, wire::kErrModelNotFound, "no model with id " + str(id));
  reply(s, m, wire::kOk, "", [&](Writer& w) { write_model_info(w, info_of(*h)); });
}

void Server::on_delete_model(Session& s, const Message& m) {
  Reader r = m.reader();
  const uint64_t id = r.u64();
  r.expect_end();
  std::lock_guard<std::mutex> lock(models_mu_);
  auto it = models_.find(id);
  const bool visible = it != models_.end() &&
                       (it->second->owner_session == s.id || it->second->access == wire::kAccessPublic ||
                        (it->second->access == wire::kAccessUserProtected && it->second->owner_uid == s.uid));
  if (!visible) return reply(s, m, wire::kErrModelNotFound, "no model with id " + str(id));
  if (it->second->owner_session != s.id && it->second->access == wire::kAccessUserProtected &&
      it->second->owner_uid != s.uid) {
    return reply(s, m, wire::kErrPermission, "model " + str(id) + " belongs to another user");
  }
  it->second->deleted = true;
  log_event(kLogInfo, "model_deleted",
            {{"session", str(s.id)}, {"model", str(id)}, {"name", it->second->name}});
  models_.erase(it);
  reply(s, m, wire::kOk, "");
}

void Server::on_alloc_tensors(Session& s, const Message& m) {
  Reader r = m.reader();
  const uint64_t model_id = r.u64();
  const uint8_t side = r.u8();
  const uint32_t props = r.u32();
  const ParamMap params = read_map(r);
  r.expect_end();
  if (side > 1) throw ProtocolError("ALLOC_TENSORS side must be 0 (inputs) or 1 (outputs)");
  auto h = find_model(s, model_id);
  if (!h) return reply(s, m, wire::kErrModelNotFound, "no model with id " + str(model_id));
  auto fail_alloc = [&](const std::string& error) {
    log_event(kLogErr, "alloc_failed", {{"session", str(s.id)}, {"model", str(model_id)}, {"error", error}});
    reply(s, m, wire::kErrAlloc, error);
  };
  if (props & ~wire::kPropAll) return fail_alloc("unknown fd property flags " + str(props));
  if (!params.empty())
    return fail_alloc("allocation takes no parameters (got '" + params.begin()->first + "')");
  const auto& infos = side == 0 ? h->model->inputs : h->model->outputs;
  if (s.buffers.size() + infos.size() > kMaxBuffersPerSession) {
    return fail_alloc("the session has " + str(s.buffers.size()) + " buffers (limit " +
                      str(kMaxBuffersPerSession) + ")");
  }
  std::vector<std::shared_ptr<Buffer>> made;
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
  for (const auto& info : infos) {
    std::string error;
    auto b = Buffer::allocate(static_cast<size_t>(info.byte_size), info.name, error);
    if (!b)
      return fail_alloc("allocating " + str(info.byte_size) + " bytes for '" + info.name + "': " + error);
    made.push_back(std::move(b));
  }
  std::vector<uint64_t> ids;
  std::vector<int> fds;
  for (auto& b : made) {
    const uint64_t id = s.next_buffer_id++;
    s.buffer_bytes += b->size();
    s.buffers[id] = b;
    ids.push_back(id);
    fds.push_back(b->fd());
  }
  reply(
      s, m, wire::kOk, "",
      [&](Writer& w) {
        w.u32(static_cast<uint32_t>(made.size()));
        for (size_t i = 0; i < made.size(); ++i) {
          w.u64(ids[i]);
          w.u64(made[i]->size());
          w.u32(made[i]->props());
        }
      },
      fds);
}

void Server::on_track_buffer(Session& s, Message& m) {
  Reader r = m.reader();
  const uint32_t props = r.u32();
  r.expect_end();
  if (m.fds.size() != 1) throw ProtocolError("TRACK_BUFFER carries one file descriptor");
  if (props & ~wire::kPropAll) return reply(s, m, wire::kErrFd, "unknown fd property flags " + str(props));
  if (s.buffers.size() >= kMaxBuffersPerSession) {
    return reply(s, m, wire::kErrFd, "the session has " + str(s.buffers.size()) + " buffers (the limit)");
  }
  std::string error;
  auto b = Buffer::adopt(std::move(m.fds[0]), props, error);
  if (!b) return reply(s, m, wire::kErrFd, "cannot track the tensor fd: " + error);
  const uint64_t id = s.next_buffer_id++;
  s.buffers[id] = b;
  reply(s, m, wire::kOk, "", [&](Writer& w) {
    w.u64(id);
    w.u64(b->size());
  });
}

void Server::on_release_buffers(Session& s, const Message& m) {
  Reader r = m.reader();
  const std::vector<uint64_t> ids = r.u64s(kMaxListItems);
  r.expect_end();
  std::string unknown;
  for (uint64_t id : ids) {
    auto it = s.buffers.find(id);
    if (it == s.buffers.end()) {
      append_item(unknown, str(id));
      continue;
    }
    if (it->second->sealed() && s.buffer_bytes >= it->second->size()) s.buffer_bytes -= it->second->size();
    s.buffers.erase(it);
  }
  if (!unknown.empty()) return reply(s, m, wire::kErrFd, "unknown buffer ids: " + unknown);
  reply(s, m, wire::kOk, "");
}

void Server::on_run_job(Session& s, Message& m) {
  Reader r = m.reader();
  const uint64_t model_id = r.u64();
  const uint8_t priority = r.u8();
  ParamMap params = read_map(r);
  std::vector<TensorRef> in_refs, out_refs;
  uint32_t n = r.count(kMaxTensors, 29);
  for (uint32_t i = 0; i < n; ++i) in_refs.push_back(read_tensor_ref(r));
  n = r.count(kMaxTensors, 29);
  for (uint32_t i = 0; i < n; ++i) out_refs.push_back(read_tensor_ref(r));
  r.expect_end();
  std::vector<bool> fd_used(m.fds.size(), false);
  for (const auto* refs : {&in_refs, &out_refs}) {
    for (const TensorRef& ref : *refs) {
      if (ref.kind != TensorRef::kFd) continue;
      if (ref.fd_index >= m.fds.size())
        throw ProtocolError("tensor fd index " + str(ref.fd_index) + " out of range");
      fd_used[ref.fd_index] = true;
    }
  }
  for (bool used : fd_used) {
    if (!used) throw ProtocolError("RUN_JOB carries a file descriptor no tensor uses");
  }

  std::shared_ptr<ModelHandle> h;
  auto fail_job = [&](int32_t status, const std::string& error) {
    log_event(kLogErr, "job_failed",
              {{"session", str(s.id)},
               {"pid", str(static_cast<uint64_t>(s.pid))},
               {"model", str(model_id)},
               {"device", h ? h->device->label() : "?"},
               {"code", status_name(status)},
               {"error", error}});
    reply(s, m, status, error);
  };
  h = find_model(s, model_id);
  if (!h) return fail_job(wire::kErrModelNotFound, "no model with id " + str(model_id));
  if (priority > 100) return fail_job(wire::kErrJob, "priority " + str(priority) + " is outside 0..100");
  const LoadedModel& model = *h->model;
  if (in_refs.size() != model.inputs.size() || out_refs.size() != model.outputs.size()) {
    return fail_job(wire::kErrTensorMismatch, "the job has " + str(in_refs.size()) + " inputs and " +
                                                  str(out_refs.size()) + " outputs; the model has " +
                                                  str(model.inputs.size()) + " and " +
                                                  str(model.outputs.size()));
  }
  if (s.outstanding.load() >= kMaxOutstandingJobs) {
    return fail_job(wire::kErrJob, "the session has " + str(static_cast<uint64_t>(kMaxOutstandingJobs)) +
                                       " jobs queued (the limit); wait for some to finish");
  }

  Job job;
  job.request_id = m.header.id;
  job.priority = priority;
  job.model = h;
  job.params = std::move(params);
  std::vector<std::shared_ptr<Buffer>> fd_buffers(m.fds.size());
  try {
    auto resolve = [&](const TensorRef& ref, const TensorInfo& info, bool is_output, size_t index) {
      const std::string what =
          std::string(is_output ? "output " : "input ") + str(index) + " ('" + info.name + "')";
      JobTensor t;
      t.ref = ref;
      if (ref.kind == TensorRef::kBuffer) {
        auto it = s.buffers.find(ref.buffer_id);
        if (it == s.buffers.end())
          throw ServiceError(wire::kErrFd, what + ": unknown buffer id " + str(ref.buffer_id));
        t.buffer = it->second;
      } else {
        auto& b = fd_buffers[ref.fd_index];
        if (!b) {
          std::string error;
          UniqueFd fd(::fcntl(m.fds[ref.fd_index].get(), F_DUPFD_CLOEXEC, 0));
          if (!fd) throw ServiceError(wire::kErrFd, what + ": " + errno_str(errno));
          b = Buffer::adopt(std::move(fd), ref.props, error);
          if (!b) throw ServiceError(wire::kErrFd, what + ": " + error);
        }
        t.buffer = b;
      }
      const Buffer& b = *t.buffer;
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
                                                         " differ from the model's " +
                                                         dims_str(info.pitches));
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
                                                         " differs from the model's " +
                                                         layout_name(info.layout));
      }
      t.offset = offset;
      t.length = info.byte_size;
      return t;
    };
    for (size_t i = 0; i < in_refs.size(); ++i)
      job.inputs.push_back(resolve(in_refs[i], model.inputs[i], false, i));
    for (size_t i = 0; i < out_refs.size(); ++i)
      job.outputs.push_back(resolve(out_refs[i], model.outputs[i], true, i));
  } catch (const ServiceError& e) {
    return fail_job(e.status(), e.what());
  }
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
  Writer w;
  write_status(w, status, message);
  s.send(static_cast<uint16_t>(static_cast<uint16_t>(Msg::kRunJob) | kReplyBit), job.request_id, w.bytes());
}

void Server::on_num_sessions(Session& s, const Message& m) {
  m.reader().expect_end();
  reply(s, m, wire::kOk, "", [&](Writer& w) { w.u64(live_sessions_.load()); });
}

void Server::on_stats(Session& s, const Message& m) {
  m.reader().expect_end();
  uint64_t models = 0, executables = 0;
  {
    std::lock_guard<std::mutex> lock(models_mu_);
    models = models_.size();
    for (auto& [k, w] : model_cache_) executables += !w.expired();
  }
  uint64_t queued = 0;
  for (auto& d : devices_) queued += d->queued();
  reply(s, m, wire::kOk, "", [&](Writer& w) {
    w.u64(live_sessions_.load());
    w.u64(models);
    w.u64(executables);
    w.u64(static_cast<uint64_t>(Buffer::live_count()));
    w.u64(queued);
  });
}

void Server::on_test_hook(Session& s, const Message& m) {
  Reader r = m.reader();
  const std::string name = r.str();
  const uint32_t instance = r.u32();
  r.expect_end();
  Device* d = find_device(name, instance);
  if (!d) return reply(s, m, wire::kErrInvalidChipId, "no device '" + name + "'");
  if (static_cast<Msg>(m.header.type) == Msg::kTestPauseDevice) {
    d->pause();
  } else {
    d->resume();
  }
  log_event(kLogNotice, "test_hook",
            {{"session", str(s.id)},
             {"device", d->label()},
             {"action", static_cast<Msg>(m.header.type) == Msg::kTestPauseDevice ? "pause" : "resume"}});
  reply(s, m, wire::kOk, "");
}

}  // namespace

int run_server(const ServerOptions& options) {
  Server server(options);
  return server.run();
}

}  // namespace osprey::service
