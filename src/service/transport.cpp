#include "service/transport.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace osprey::service {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

RecvResult recv_message(int sock, Message& out, std::string& error, bool nonblocking) {
  // One byte more than the limit detects oversize messages without MSG_TRUNC games.
  thread_local std::vector<uint8_t> buf(kMaxMessage + 1);
  // Room for every fd before any arrives: once received, an fd is owned
  // (closed on every path), never lost to a failed allocation.
  std::vector<UniqueFd> fds;
  fds.reserve(kMaxFds);
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | (nonblocking ? MSG_DONTWAIT : 0));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return RecvResult::kAgain;
    if (errno == ECONNRESET) return RecvResult::kEof;
    error = std::string("recvmsg: ") + std::strerror(errno);
    return RecvResult::kError;
  }
  bool bad_cmsg = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
      bad_cmsg = true;
      continue;
    }
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char* data = CMSG_DATA(c);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
    }
  }
  if (n == 0) return RecvResult::kEof;  // orderly shutdown (any fds are closed)
  if (msg.msg_flags & MSG_CTRUNC) {
    // The kernel also truncates when the receiver has no descriptor left.
    error = fds.size() < kMaxFds
                ? "the receiver ran out of file descriptors (" + std::to_string(fds.size()) +
                      " of the message's arrived)"
                : "message carries more than " + std::to_string(kMaxFds) + " file descriptors";
    return RecvResult::kMalformed;
  }
  if (bad_cmsg) {
    error = "message carries unexpected ancillary data";
    return RecvResult::kMalformed;
  }
  if ((msg.msg_flags & MSG_TRUNC) || static_cast<size_t>(n) > kMaxMessage) {
    error = "message longer than the limit of " + std::to_string(kMaxMessage) + " bytes";
    return RecvResult::kMalformed;
  }
  if (static_cast<size_t>(n) < kHeaderSize) {
    error = "message of " + std::to_string(n) + " bytes is shorter than the header";
    return RecvResult::kMalformed;
  }
  Header h;
  std::memcpy(&h, buf.data(), kHeaderSize);
  if (h.magic != kMagic) {
    error = "bad magic number (not an osprey client?)";
    return RecvResult::kMalformed;
  }
  if (h.length != static_cast<size_t>(n) - kHeaderSize) {
    error = "header says " + std::to_string(h.length) + " payload bytes, message has " +
            std::to_string(static_cast<size_t>(n) - kHeaderSize);
    return RecvResult::kMalformed;
  }
  if (h.num_fds != fds.size()) {
    error = "header says " + std::to_string(h.num_fds) + " file descriptors, message carries " +
            std::to_string(fds.size());
    return RecvResult::kMalformed;
  }
  out.header = h;
  out.payload.assign(buf.begin() + kHeaderSize, buf.begin() + n);
  out.fds = std::move(fds);
  return RecvResult::kOk;
}

int send_message(int sock, uint16_t type, uint64_t id, const std::vector<uint8_t>& payload, const int* fds,
                 size_t num_fds, bool nonblocking) {
  if (payload.size() + kHeaderSize > kMaxMessage) return EMSGSIZE;
  if (num_fds > kMaxFds) return EMSGSIZE;
  Header h;
  h.type = type;
  h.length = static_cast<uint32_t>(payload.size());
  h.num_fds = static_cast<uint32_t>(num_fds);
  h.id = id;
  iovec iov[2] = {{&h, kHeaderSize}, {const_cast<uint8_t*>(payload.data()), payload.size()}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = payload.empty() ? 1 : 2;
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  if (num_fds > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * num_fds);
    std::memset(control, 0, msg.msg_controllen);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * num_fds);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * num_fds);
  }
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL | (nonblocking ? MSG_DONTWAIT : 0));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EWOULDBLOCK ? EAGAIN : errno;
  return 0;
}

std::string default_socket_path() {
  if (const char* s = std::getenv("OSPREY_SOCKET"); s && *s) return s;
  if (::geteuid() == 0) return "/run/osprey/osprey.sock";
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/osprey.sock";
  return "/tmp/osprey-" + std::to_string(::geteuid()) + "/osprey.sock";
}

}  // namespace osprey::service
