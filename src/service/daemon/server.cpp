// ospreyd's listening socket, its main loop (signals, accepting, reaping
// finished sessions) and run_server().
#include "service/daemon/server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "service/daemon/log.h"
#include "service/daemon/server_internal.h"

namespace osprey::service {

void append_item(std::string& list, const std::string& item, const char* sep) {
  if (!list.empty()) list += sep;
  list += item;
}

namespace {

std::string errno_str(int e) {
  return std::strerror(e);
}

// Lifts the soft limit on open files to the hard one, as daemons do: every
// buffer a client allocates or tracks holds a descriptor. Returns the limit.
uint64_t raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? uint64_t{1} << 20 : static_cast<uint64_t>(limit.rlim_cur);
}

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

}  // namespace

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

  fd_limit_ = raise_fd_limit();
  reserved_fds_ = kReservedFds + kFdsPerSession * static_cast<uint64_t>(options_.max_sessions);
  spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!open_socket()) return 1;

  // Every device of the daemon, in the order larodListDevices reports them.
  try {
    const TfliteSettings cpu{options_.backend, options_.threads};
    devices_.push_back(make_tflite_device(cpu));
    devices_.push_back(make_proc_device());
    for (auto& dlpu : make_dlpu_devices(cpu)) devices_.push_back(std::move(dlpu));
  } catch (const osprey::Error& e) {
    log_event(kLogErr, "start_failed", {{"error", e.what()}});
    ::unlink(options_.socket_path.c_str());
    return 1;
  }
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
             {"memory_budget", str(options_.max_memory_bytes)},
             {"fd_limit", str(fd_limit_)},
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

// With no descriptor left, the waiting connection keeps the listening socket
// readable and the main loop would spin on it while the client hangs:
// accept it on the spare descriptor and close it, which tells the client.
void Server::refuse_for_lack_of_fds() {
  spare_fd_.reset();
  UniqueFd refused(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  log_event(kLogWarning, "session_refused",
            {{"reason", "out of file descriptors"}, {"limit", str(fd_limit_)}});
}

std::string Server::fd_shortage(size_t n) const {
  const uint64_t live = static_cast<uint64_t>(Buffer::live_count());
  if (live + n + reserved_fds_ <= fd_limit_) return "";
  return "ospreyd's tensors hold " + str(live) + " file descriptors, all it may give them (RLIMIT_NOFILE " +
         str(fd_limit_) + " less " + str(reserved_fds_) + " kept for the daemon and its sessions)";
}

void Server::accept_one() {
  UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd) {
    if (errno == EMFILE || errno == ENFILE) return refuse_for_lack_of_fds();
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

int run_server(const ServerOptions& options) {
  Server server(options);
  return server.run();
}

}  // namespace osprey::service
