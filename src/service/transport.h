// Framing of the wire protocol between liblarod and ospreyd.
//
// Transport: a Unix SOCK_SEQPACKET socket, so every sendmsg() is one message
// and its file descriptors (SCM_RIGHTS) travel with it. A message is a fixed
// 24-byte header followed by `length` payload bytes, at most kMaxMessage in
// all. Integers are in host byte order (both ends are on the same machine).
// The payloads themselves are described in protocol.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "service/codec.h"

namespace osprey::service {

constexpr uint32_t kMagic = 0x4F535052;  // "RPSO" in memory on little-endian hosts
constexpr uint16_t kProtocolVersion = 1;
constexpr size_t kHeaderSize = 24;
constexpr size_t kMaxMessage = 64 * 1024;  // header + payload
constexpr size_t kMaxFds = 32;             // per message

// An fd that closes itself.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct Header {
  uint32_t magic = kMagic;
  uint16_t version = kProtocolVersion;
  uint16_t type = 0;
  uint32_t length = 0;  // payload bytes
  uint32_t num_fds = 0;
  uint64_t id = 0;
};
static_assert(sizeof(Header) == kHeaderSize);

struct Message {
  Header header;
  std::vector<uint8_t> payload;
  std::vector<UniqueFd> fds;
  Reader reader() const { return Reader(payload.data(), payload.size()); }
};

enum class RecvResult { kOk, kEof, kAgain, kError, kMalformed };
// Receives one message. kMalformed (with `error` set) for a message that is
// too long, carries too many fds, or whose header is inconsistent; any fds it
// carried are closed. kError sets errno-derived text in `error`.
RecvResult recv_message(int sock, Message& out, std::string& error, bool nonblocking = false);

// Sends one message; returns 0 or an errno value (EAGAIN with nonblocking).
int send_message(int sock, uint16_t type, uint64_t id, const std::vector<uint8_t>& payload, const int* fds,
                 size_t num_fds, bool nonblocking = false);

// The socket path: $OSPREY_SOCKET, else /run/osprey/osprey.sock for root,
// else $XDG_RUNTIME_DIR/osprey.sock, else /tmp/osprey-<uid>/osprey.sock.
std::string default_socket_path();

}  // namespace osprey::service
