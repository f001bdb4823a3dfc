// The Server behind run_server(), shared by the files that implement it:
//   server.cpp          socket, main loop, accepting and reaping sessions
//   session.cpp         a session's outbox and its connection thread
//   requests.cpp        dispatch, replies and the small requests
//   model_requests.cpp  LOAD_MODEL, GET_MODEL(S), DELETE_MODEL and the model table
//   buffer_requests.cpp ALLOC_TENSORS, TRACK_BUFFER, RELEASE_BUFFERS
//   job_requests.cpp    RUN_JOB and job completion (checks in job_validation.h)
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "service/daemon/device.h"
#include "service/daemon/server.h"
#include "service/daemon/session.h"
#include "service/protocol.h"

namespace osprey::service {

// Per-session resource limits.
constexpr size_t kMaxModelsPerSession = 256;
constexpr size_t kMaxBuffersPerSession = 4096;
constexpr uint64_t kMaxBufferBytesPerSession = uint64_t{4} << 30;
constexpr uint64_t kMaxTensorBytes = uint64_t{1} << 30;
constexpr int kMaxOutstandingJobs = 1024;
constexpr uint64_t kMaxModelFileBytes = uint64_t{512} << 20;
// File descriptors kept for the daemon itself (logs, its socket, messages in
// flight) and, per session, for its socket and eventfd: the rest of
// RLIMIT_NOFILE is what clients' buffers may hold.
constexpr uint64_t kReservedFds = 64;
constexpr uint64_t kFdsPerSession = 2;

inline std::string str(uint64_t v) {
  return std::to_string(v);
}
void append_item(std::string& list, const std::string& item, const char* sep = ", ");

class Server {
 public:
  explicit Server(const ServerOptions& options) : options_(options), budget_(options.max_memory_bytes) {}
  int run();

 private:
  struct SessionEntry {
    std::shared_ptr<Session> session;
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  bool open_socket();
  void accept_one();
  void refuse_for_lack_of_fds();
  // Why `n` more buffers cannot each hold a file descriptor, or "".
  std::string fd_shortage(size_t n) const;
  void reap(bool all);
  void serve(std::shared_ptr<Session> session, std::shared_ptr<std::atomic<bool>> done);
  // Returns false when the connection must close.
  bool handle(Session& s, Message& m);
  void close_session(Session& s, const std::string& reason);

  // Replies to `req`: a body (and fds) on success, or a status and message.
  template <class Body>
  void reply_ok(Session& s, const Message& req, const Body& body, const std::vector<int>& fds = {}) {
    send_reply(s, req, encode_ok_reply(body), fds);
  }
  void reply_error(Session& s, const Message& req, int32_t status, const std::string& message);
  void send_reply(Session& s, const Message& req, const std::vector<uint8_t>& payload,
                  const std::vector<int>& fds);

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
  static bool visible_to(const ModelHandle& h, const Session& s);
  ModelInfo info_of(const ModelHandle& h);
  // Makes (or shares) the executable for a LOAD_MODEL request.
  std::shared_ptr<LoadedModel> load_or_share(Device& device, const LoadModelRequest& req, int fd,
                                             bool& shared);
  int free_models_of(const Session& s);

  ServerOptions options_;
  UniqueFd listen_fd_;
  UniqueFd signal_fd_;
  UniqueFd spare_fd_;          // given up to accept a connection when none is left
  uint64_t fd_limit_ = 0;      // RLIMIT_NOFILE
  uint64_t reserved_fds_ = 0;  // of which buffers may not hold
  std::vector<std::unique_ptr<Device>> devices_;
  std::map<uint64_t, SessionEntry> sessions_;  // main thread only
  std::atomic<uint64_t> live_sessions_{0};
  uint64_t next_session_id_ = 1;

  MemoryBudget budget_;
  std::mutex loading_mu_;  // held while a model file is read and prepared
  // Held from a check of the descriptors' share to the creation of the
  // buffers it allowed: sessions checking at once could each take the last.
  std::mutex fd_share_mu_;

  std::mutex models_mu_;
  std::map<uint64_t, std::shared_ptr<ModelHandle>> models_;
  std::map<std::string, std::weak_ptr<LoadedModel>> model_cache_;
  uint64_t next_model_id_ = 1;
};

}  // namespace osprey::service
