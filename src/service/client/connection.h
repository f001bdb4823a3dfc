// A client's connection to ospreyd: sends requests and matches replies to
// them by id. Knows nothing of larod.h, so it is tested over a socketpair
// against a fake daemon (tests/service/connection_test.cpp).
//
// Threads: replies are read by whichever thread holds the reading role. A
// synchronous call sends its request and, when no other thread is reading,
// reads the socket itself until its reply arrives (no hand-off between
// threads); otherwise it sleeps until the reader hands the reply over. A
// background reader takes the role only while asynchronous requests are
// outstanding. Completions of asynchronous calls run on a separate callback
// thread, so they may themselves make synchronous calls on the connection.
// When the daemon goes away, every waiting call and pending completion fails;
// nothing waits on a dead daemon.
//
// Memory: once a request is registered, finishing it allocates nothing
// (replies move, finished asynchronous requests move between maps as nodes),
// so running out of memory fails the one call that was allocating, never a
// background thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "service/protocol.h"

namespace osprey::service::client {

class Connection {
 public:
  // Runs on the callback thread with the reply, or with null and the reason
  // the connection broke. Must not throw.
  using Completion = std::function<void(const Message* reply, const std::string& failure)>;

  // Takes a connected SOCK_SEQPACKET socket; call start() before requests.
  explicit Connection(UniqueFd sock);
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects to the daemon's socket at `path`; on failure returns an invalid
  // fd and sets `error`.
  static UniqueFd open_socket(const std::string& path, std::string& error);

  // Starts the background reader and the callback thread (throws
  // std::system_error when threads cannot be made).
  void start();

  // A synchronous request. Returns true with the reply (of type type|kReplyBit)
  // in `reply`, or false with the reason in `failure`.
  bool call(Msg type, const std::vector<uint8_t>& payload, const std::vector<int>& fds, Message& reply,
            std::string& failure);
  // An asynchronous request: `done` runs later on the callback thread (also
  // when the connection breaks). Returns false, with `failure`, only when the
  // request could not be sent (then `done` never runs).
  bool call_async(Msg type, const std::vector<uint8_t>& payload, const std::vector<int>& fds, Completion done,
                  std::string& failure);

  bool broken() const;

  // Fails what is pending with `reason`, stops the threads and deletes `c`.
  // Called on the callback thread (from a completion), the deletion happens
  // when that completion returns.
  static void destroy(Connection* c, std::string_view reason);

 private:
  // A request waiting for its reply.
  struct Pending {
    enum class State { kWaiting, kReplied, kBroken, kWrongType };
    uint16_t type = 0;
    State state = State::kWaiting;
    Message reply;
    Completion done;  // asynchronous requests only
  };
  using AsyncMap = std::map<uint64_t, std::unique_ptr<Pending>>;

  // Gives the next request id to `add` (which files the request under it)
  // unless the connection is broken.
  template <class Register>
  bool register_request(uint64_t& id, std::string& failure, Register&& add);
  void fail_all(std::string_view reason) noexcept;
  std::string broken_reason_locked() const;
  bool read_one();
  bool read_or_break();
  void background_reader();
  void callback_loop();
  bool send(Msg type, uint64_t id, const std::vector<uint8_t>& payload, const std::vector<int>& fds,
            std::string& failure);
  void stop_threads(std::string_view reason) noexcept;

  UniqueFd sock_;
  std::mutex send_mu_;
  mutable std::mutex mu_;  // everything below
  // Signalled when a synchronous request finishes, the reading role is free,
  // or the connection breaks or stops.
  std::condition_variable cv_;
  std::condition_variable callbacks_cv_;  // `finished_` has work, or stopping
  bool reading_ = false;                  // a thread is receiving on the socket
  bool stop_ = false;
  bool broken_ = false;
  std::string broken_reason_;  // empty when it could not be stored
  uint64_t next_id_ = 1;
  std::map<uint64_t, Pending*> sync_pending_;
  AsyncMap async_pending_;
  AsyncMap finished_;  // completions to run, keyed by the order they finished
  uint64_t next_finished_ = 0;
  bool callbacks_stop_ = false;
  bool delete_on_callback_exit_ = false;
  std::thread reader_;
  std::thread callback_thread_;
};

}  // namespace osprey::service::client
