// A client connection of ospreyd and the models it can reach.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "service/daemon/buffer.h"
#include "service/daemon/device.h"
#include "service/protocol.h"

namespace osprey::service {

struct ModelHandle {
  uint64_t id = 0;
  std::string name;
  uint32_t access = wire::kAccessPrivate;
  uint64_t owner_session = 0;
  uid_t owner_uid = 0;
  Device* device = nullptr;
  std::shared_ptr<LoadedModel> model;
  std::atomic<bool> deleted{false};
};

struct Session : std::enable_shared_from_this<Session> {
  uint64_t id = 0;
  UniqueFd sock;
  UniqueFd wake;  // eventfd: the outbox has messages for the connection thread
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::atomic<bool> closed{false};
  std::atomic<int> outstanding{0};  // queued or running jobs

  // Owned by the connection thread.
  bool hello = false;
  std::map<uint64_t, std::shared_ptr<Buffer>> buffers;
  uint64_t next_buffer_id = 1;
  uint64_t buffer_bytes = 0;

  // Sends a message now if the socket takes it, else queues it for the
  // connection thread (which stops reading requests until the queue drains).
  // Safe from any thread. Returns false once the session is broken.
  bool send(uint16_t type, uint64_t id, const std::vector<uint8_t>& payload,
            const std::vector<int>& fds = {});
  // Connection thread: writes queued messages until the socket is full.
  // Returns false when the socket failed.
  bool flush();
  bool outbox_empty();

 private:
  struct Outgoing {
    uint16_t type;
    uint64_t id;
    std::vector<uint8_t> payload;
    std::vector<UniqueFd> fds;
  };
  std::mutex send_mu_;
  std::deque<Outgoing> outbox_;
  bool broken_ = false;
};

}  // namespace osprey::service
