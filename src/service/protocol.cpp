#include "service/protocol.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace osprey::service {

size_t data_type_size(uint32_t type) {
  switch (type) {
    case wire::kTypeBool:
    case wire::kTypeUInt8:
    case wire::kTypeInt8: return 1;
    case wire::kTypeUInt16:
    case wire::kTypeInt16:
    case wire::kTypeFloat16: return 2;
    case wire::kTypeUInt32:
    case wire::kTypeInt32:
    case wire::kTypeFloat32: return 4;
    case wire::kTypeUInt64:
    case wire::kTypeInt64:
    case wire::kTypeFloat64: return 8;
    default: return 0;
  }
}

const char* data_type_name(uint32_t type) {
  static const char* const names[] = {"invalid", "unspecified", "bool",    "uint8",  "int8",
                                      "uint16",  "int16",       "uint32",  "int32",  "uint64",
                                      "int64",   "float16",     "float32", "float64"};
  return type < wire::kTypeMax ? names[type] : "unknown";
}

const char* layout_name(uint32_t layout) {
  static const char* const names[] = {"invalid", "unspecified", "NHWC", "NCHW", "420SP"};
  return layout < wire::kLayoutMax ? names[layout] : "unknown";
}

const char* status_name(int32_t status) {
  switch (status) {
    case 0: return "NONE";
    case -1: return "JOB";
    case -2: return "LOAD_MODEL";
    case -3: return "FD";
    case -4: return "MODEL_NOT_FOUND";
    case -5: return "PERMISSION";
    case -6: return "CONNECTION";
    case -7: return "CREATE_SESSION";
    case -8: return "KILL_SESSION";
    case -9: return "INVALID_CHIP_ID";
    case -10: return "INVALID_ACCESS";
    case -11: return "DELETE_MODEL";
    case -12: return "TENSOR_MISMATCH";
    case -13: return "VERSION_MISMATCH";
    case -14: return "ALLOC";
    case -15: return "POWER_NOT_AVAILABLE";
    default: return "UNKNOWN";
  }
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

void Writer::put(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  buf_.insert(buf_.end(), b, b + n);
}

void Writer::str(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  put(s.data(), s.size());
}

void Writer::u64s(const std::vector<uint64_t>& v) {
  u32(static_cast<uint32_t>(v.size()));
  for (uint64_t x : v) u64(x);
}

void Reader::get(void* out, size_t n) {
  if (remaining() < n) throw ProtocolError("message ends early");
  std::memcpy(out, p_, n);
  p_ += n;
}

uint8_t Reader::u8() {
  uint8_t v;
  get(&v, 1);
  return v;
}
uint16_t Reader::u16() {
  uint16_t v;
  get(&v, 2);
  return v;
}
uint32_t Reader::u32() {
  uint32_t v;
  get(&v, 4);
  return v;
}
int32_t Reader::i32() {
  int32_t v;
  get(&v, 4);
  return v;
}
uint64_t Reader::u64() {
  uint64_t v;
  get(&v, 8);
  return v;
}
int64_t Reader::i64() {
  int64_t v;
  get(&v, 8);
  return v;
}

std::string Reader::str(size_t max) {
  uint32_t n = u32();
  if (n > max)
    throw ProtocolError("string of " + std::to_string(n) + " bytes exceeds the limit of " +
                        std::to_string(max));
  if (n > remaining()) throw ProtocolError("string runs past the end of the message");
  std::string s(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  if (s.find('\0') != std::string::npos) throw ProtocolError("string contains a NUL byte");
  return s;
}

uint32_t Reader::count(size_t max, size_t min_item_bytes) {
  uint32_t n = u32();
  if (n > max)
    throw ProtocolError("count " + std::to_string(n) + " exceeds the limit of " + std::to_string(max));
  if (min_item_bytes > 0 && static_cast<uint64_t>(n) * min_item_bytes > remaining()) {
    throw ProtocolError("count " + std::to_string(n) + " runs past the end of the message");
  }
  return n;
}

std::vector<uint64_t> Reader::u64s(size_t max) {
  uint32_t n = count(max, 8);
  std::vector<uint64_t> v(n);
  for (auto& x : v) x = u64();
  return v;
}

void Reader::expect_end() const {
  if (remaining() != 0) throw ProtocolError(std::to_string(remaining()) + " unexpected trailing bytes");
}

void write_map(Writer& w, const ParamMap& map) {
  w.u32(static_cast<uint32_t>(map.size()));
  for (const auto& [key, value] : map) {
    w.str(key);
    w.u8(value.type);
    switch (value.type) {
      case MapValue::kStr: w.str(value.s); break;
      case MapValue::kInt: w.i64(value.v[0]); break;
      case MapValue::kArr2:
        w.i64(value.v[0]);
        w.i64(value.v[1]);
        break;
      case MapValue::kArr4:
        for (int i = 0; i < 4; ++i) w.i64(value.v[i]);
        break;
    }
  }
}

ParamMap read_map(Reader& r) {
  uint32_t n = r.count(kMaxMapEntries, 5);
  ParamMap map;
  for (uint32_t i = 0; i < n; ++i) {
    std::string key = r.str();
    if (key.empty()) throw ProtocolError("empty map key");
    MapValue v;
    uint8_t type = r.u8();
    switch (type) {
      case MapValue::kStr: v.s = r.str(); break;
      case MapValue::kInt: v.v[0] = r.i64(); break;
      case MapValue::kArr2:
        v.v[0] = r.i64();
        v.v[1] = r.i64();
        break;
      case MapValue::kArr4:
        for (int k = 0; k < 4; ++k) v.v[k] = r.i64();
        break;
      default: throw ProtocolError("unknown map value type " + std::to_string(type));
    }
    v.type = static_cast<MapValue::Type>(type);
    if (!map.emplace(std::move(key), std::move(v)).second) throw ProtocolError("duplicate map key");
  }
  return map;
}

std::string map_value_str(const MapValue& v) {
  switch (v.type) {
    case MapValue::kStr: return v.s;
    case MapValue::kInt: return std::to_string(v.v[0]);
    case MapValue::kArr2: return std::to_string(v.v[0]) + "," + std::to_string(v.v[1]);
    case MapValue::kArr4:
      return std::to_string(v.v[0]) + "," + std::to_string(v.v[1]) + "," + std::to_string(v.v[2]) + "," +
             std::to_string(v.v[3]);
  }
  return "";
}

void write_tensor_info(Writer& w, const TensorInfo& t) {
  w.str(t.name);
  w.u32(t.data_type);
  w.u32(t.layout);
  w.u64s(t.dims);
  w.u64s(t.pitches);
  w.u64(t.byte_size);
}

TensorInfo read_tensor_info(Reader& r) {
  TensorInfo t;
  t.name = r.str();
  t.data_type = r.u32();
  t.layout = r.u32();
  t.dims = r.u64s(kMaxDims);
  t.pitches = r.u64s(kMaxDims);
  t.byte_size = r.u64();
  return t;
}

void write_model_info(Writer& w, const ModelInfo& m) {
  w.u64(m.id);
  w.str(m.name);
  w.str(m.device);
  w.u32(m.instance);
  w.u32(m.access);
  w.u64(m.size);
  w.u32(static_cast<uint32_t>(m.inputs.size()));
  for (const auto& t : m.inputs) write_tensor_info(w, t);
  w.u32(static_cast<uint32_t>(m.outputs.size()));
  for (const auto& t : m.outputs) write_tensor_info(w, t);
}

ModelInfo read_model_info(Reader& r) {
  ModelInfo m;
  m.id = r.u64();
  m.name = r.str();
  m.device = r.str();
  m.instance = r.u32();
  m.access = r.u32();
  m.size = r.u64();
  uint32_t n = r.count(kMaxTensors, 24);
  for (uint32_t i = 0; i < n; ++i) m.inputs.push_back(read_tensor_info(r));
  n = r.count(kMaxTensors, 24);
  for (uint32_t i = 0; i < n; ++i) m.outputs.push_back(read_tensor_info(r));
  return m;
}

void write_tensor_ref(Writer& w, const TensorRef& t) {
  w.u8(t.kind);
  if (t.kind == TensorRef::kBuffer) {
    w.u64(t.buffer_id);
  } else {
    w.u32(t.fd_index);
  }
  w.i64(t.offset);
  w.u64(t.fd_size);
  w.u32(t.props);
  w.u32(t.data_type);
  w.u32(t.layout);
  w.u64s(t.dims);
  w.u64s(t.pitches);
}

TensorRef read_tensor_ref(Reader& r) {
  TensorRef t;
  uint8_t kind = r.u8();
  if (kind == TensorRef::kBuffer) {
    t.kind = TensorRef::kBuffer;
    t.buffer_id = r.u64();
  } else if (kind == TensorRef::kFd) {
    t.kind = TensorRef::kFd;
    t.fd_index = r.u32();
  } else {
    throw ProtocolError("unknown tensor reference kind " + std::to_string(kind));
  }
  t.offset = r.i64();
  t.fd_size = r.u64();
  t.props = r.u32();
  t.data_type = r.u32();
  t.layout = r.u32();
  t.dims = r.u64s(kMaxDims);
  t.pitches = r.u64s(kMaxDims);
  return t;
}

void write_status(Writer& w, int32_t status, std::string_view message) {
  w.i32(status);
  w.str(message.substr(0, kMaxString));
}

RecvResult recv_message(int sock, Message& out, std::string& error, bool nonblocking) {
  // One byte more than the limit detects oversize messages without MSG_TRUNC games.
  thread_local std::vector<uint8_t> buf(kMaxMessage + 1);
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
  std::vector<UniqueFd> fds;
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
    error = "message carries more than " + std::to_string(kMaxFds) + " file descriptors";
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
