#include "service/client/connection.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace osprey::service::client {
namespace {

constexpr const char* kClosedByDaemon = "ospreyd closed the connection (it stopped or restarted)";

// Runs `fn` when the scope ends, however it ends.
template <class F>
class ScopeExit {
 public:
  explicit ScopeExit(F fn) : fn_(std::move(fn)) {}
  ~ScopeExit() { fn_(); }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;

 private:
  F fn_;
};

}  // namespace

Connection::Connection(UniqueFd sock) : sock_(std::move(sock)) {}

Connection::~Connection() {
  stop_threads("the connection was closed");
}

UniqueFd Connection::open_socket(const std::string& path, std::string& error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    error = "socket path '" + path + "' is too long";
    return UniqueFd();
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!sock) {
    error = std::string("socket: ") + std::strerror(errno);
    return sock;
  }
  int rc;
  do {
    rc = ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    error = "cannot connect to ospreyd at " + path + ": " + std::strerror(errno) +
            " (is ospreyd running? OSPREY_SOCKET selects the socket)";
    return UniqueFd();
  }
  return sock;
}

void Connection::start() {
  reader_ = std::thread([this] { background_reader(); });
  try {
    callback_thread_ = std::thread([this] { callback_loop(); });
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    reader_.join();
    throw;
  }
}

bool Connection::broken() const {
  std::lock_guard<std::mutex> lock(mu_);
  return broken_;
}

std::string Connection::broken_reason_locked() const {
  return broken_reason_.empty() ? "the connection to ospreyd broke" : broken_reason_;
}

void Connection::fail_all(std::string_view reason) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!broken_) {
      broken_ = true;
      try {
        broken_reason_.assign(reason);
      } catch (...) {
        broken_reason_.clear();
      }
    }
    for (auto& [id, p] : sync_pending_) p->state = Pending::State::kBroken;
    sync_pending_.clear();
    // Moving nodes between maps allocates nothing.
    while (!async_pending_.empty()) {
      auto node = async_pending_.extract(async_pending_.begin());
      node.mapped()->state = Pending::State::kBroken;
      node.key() = next_finished_++;
      finished_.insert(std::move(node));
    }
  }
  cv_.notify_all();
  callbacks_cv_.notify_all();
}

// Receives one message and hands it to whoever waits for it. Only the thread
// holding the reading role calls this. Returns false once broken.
bool Connection::read_one() {
  Message m;
  std::string error;
  const RecvResult r = recv_message(sock_.get(), m, error);
  if (r == RecvResult::kEof) {
    fail_all(kClosedByDaemon);
    return false;
  }
  if (r != RecvResult::kOk) {
    fail_all("connection to ospreyd failed: " + error);
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = sync_pending_.find(m.header.id); it != sync_pending_.end()) {
      Pending* p = it->second;
      sync_pending_.erase(it);
      if (m.header.type != (p->type | kReplyBit)) {
        p->state = Pending::State::kWrongType;
      } else {
        p->reply = std::move(m);
        p->state = Pending::State::kReplied;
      }
      cv_.notify_all();
      return true;
    }
    if (auto it = async_pending_.find(m.header.id); it != async_pending_.end()) {
      auto node = async_pending_.extract(it);
      node.mapped()->reply = std::move(m);
      node.mapped()->state = Pending::State::kReplied;
      node.key() = next_finished_++;
      finished_.insert(std::move(node));
      callbacks_cv_.notify_all();
    }
  }
  // Replies nobody waits for are dropped (their fds close with m).
  return true;
}

// read_one(), but a failure part-way (out of memory) may have lost a message,
// so the connection cannot go on: it breaks, then the exception goes on.
bool Connection::read_or_break() {
  try {
    return read_one();
  } catch (...) {
    fail_all("out of memory while reading from ospreyd");
    throw;
  }
}

void Connection::background_reader() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || broken_ || (!reading_ && !async_pending_.empty()); });
      if (stop_ || broken_) return;
      reading_ = true;
    }
    bool ok = false;
    try {
      ok = read_or_break();
    } catch (...) {
      ok = false;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      reading_ = false;
    }
    cv_.notify_all();
    if (!ok) return;
  }
}

void Connection::callback_loop() {
  for (;;) {
    std::unique_ptr<Pending> p;
    std::string failure;
    {
      std::unique_lock<std::mutex> lock(mu_);
      callbacks_cv_.wait(lock, [this] { return callbacks_stop_ || !finished_.empty(); });
      if (finished_.empty()) break;  // stopping and drained
      p = std::move(finished_.begin()->second);
      finished_.erase(finished_.begin());
      if (p->state != Pending::State::kReplied) {
        try {
          failure = broken_reason_locked();
        } catch (...) {
          // Out of memory: the completion still runs, with an empty reason.
        }
      }
    }
    try {
      p->done(p->state == Pending::State::kReplied ? &p->reply : nullptr, failure);
    } catch (...) {
      // Completions do not throw; nothing may escape a thread.
    }
  }
  bool self_delete;
  {
    std::lock_guard<std::mutex> lock(mu_);
    self_delete = delete_on_callback_exit_;
  }
  if (self_delete) {
    callback_thread_.detach();
    delete this;
  }
}

bool Connection::send(Msg type, uint64_t id, const std::vector<uint8_t>& payload, const std::vector<int>& fds,
                      std::string& failure) {
  int err;
  {
    std::lock_guard<std::mutex> lock(send_mu_);
    err = send_message(sock_.get(), static_cast<uint16_t>(type), id, payload, fds.data(), fds.size());
  }
  if (err == 0) return true;
  if (err == EMSGSIZE) {
    failure = "the request is too large for the protocol";
    return false;
  }
  // The daemon is gone: fail everything, not just this request.
  failure = err == EPIPE || err == ECONNRESET || err == ENOTCONN
                ? kClosedByDaemon
                : std::string("sending to ospreyd failed: ") + std::strerror(err);
  fail_all(failure);
  return false;
}

template <class Register>
bool Connection::register_request(uint64_t& id, std::string& failure, Register&& add) {
  std::lock_guard<std::mutex> lock(mu_);
  if (broken_) {
    failure = broken_reason_locked();
    return false;
  }
  add(next_id_);  // may throw (then nothing is registered and no id is used)
  id = next_id_++;
  return true;
}

bool Connection::call(Msg type, const std::vector<uint8_t>& payload, const std::vector<int>& fds,
                      Message& reply, std::string& failure) {
  Pending p;
  p.type = static_cast<uint16_t>(type);
  uint64_t id;
  if (!register_request(id, failure, [&](uint64_t new_id) { sync_pending_[new_id] = &p; })) return false;
  // However this call ends, `p` (on this stack) must leave the table.
  ScopeExit unregister([&] {
    std::lock_guard<std::mutex> lock(mu_);
    sync_pending_.erase(id);
  });
  if (!send(type, id, payload, fds, failure)) return false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (p.state == Pending::State::kWaiting) {
      if (!reading_ && !broken_) {
        // The socket is free: read until our reply arrives.
        reading_ = true;
        lock.unlock();
        bool threw = true;
        ScopeExit release_reading([&] {
          if (!threw) return;
          std::lock_guard<std::mutex> relock(mu_);
          reading_ = false;
          cv_.notify_all();
        });
        read_or_break();
        threw = false;
        lock.lock();
        reading_ = false;
        cv_.notify_all();
        continue;
      }
      cv_.wait(lock);
    }
    switch (p.state) {
      case Pending::State::kReplied: break;
      case Pending::State::kWrongType:
        failure = "ospreyd answered with an unexpected message type";
        return false;
      default: failure = broken_reason_locked(); return false;
    }
  }
  reply = std::move(p.reply);
  return true;
}

bool Connection::call_async(Msg type, const std::vector<uint8_t>& payload, const std::vector<int>& fds,
                            Completion done, std::string& failure) {
  auto p = std::make_unique<Pending>();
  p->type = static_cast<uint16_t>(type);
  p->done = std::move(done);
  uint64_t id;
  if (!register_request(id, failure, [&](uint64_t new_id) { async_pending_[new_id] = std::move(p); })) {
    return false;
  }
  cv_.notify_all();  // the background reader takes over when the socket is free
  if (!send(type, id, payload, fds, failure)) {
    std::lock_guard<std::mutex> lock(mu_);
    // A broken connection has queued the completion already (with the failure).
    return async_pending_.erase(id) == 0;
  }
  return true;
}

void Connection::stop_threads(std::string_view reason) noexcept {
  fail_all(reason);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  ::shutdown(sock_.get(), SHUT_RDWR);
  if (reader_.joinable()) reader_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    callbacks_stop_ = true;
  }
  callbacks_cv_.notify_all();
  if (callback_thread_.joinable() && callback_thread_.get_id() != std::this_thread::get_id()) {
    callback_thread_.join();
  }
}

void Connection::destroy(Connection* c, std::string_view reason) {
  if (c->callback_thread_.joinable() && c->callback_thread_.get_id() == std::this_thread::get_id()) {
    // From a completion: the callback thread finishes the queue, then deletes c.
    {
      std::lock_guard<std::mutex> lock(c->mu_);
      c->delete_on_callback_exit_ = true;
    }
    c->stop_threads(reason);
    return;
  }
  c->stop_threads(reason);
  delete c;
}

}  // namespace osprey::service::client
