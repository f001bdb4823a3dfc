// The wire protocol between liblarod and ospreyd.
//
// Transport: a Unix SOCK_SEQPACKET socket, so every sendmsg() is one message
// and its file descriptors (SCM_RIGHTS) travel with it. A message is a fixed
// 24-byte header followed by `length` payload bytes, at most kMaxMessage in
// all. Integers are in host byte order (both ends are on the same machine).
// Strings and arrays carry a u32 count and are bounded (kMaxString, ...);
// a reader checks every length against what is left before using it and
// rejects trailing bytes. Tensor data never crosses the socket: it lives in
// memory both ends map from a file descriptor.
//
// Every request carries an id that its reply echoes; replies set kReplyBit in
// the type and start with an i32 status (a larodErrorCode) and a message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace osprey::service {

constexpr uint32_t kMagic = 0x4F535052;  // "RPSO" in memory on little-endian hosts
constexpr uint16_t kProtocolVersion = 1;
constexpr size_t kHeaderSize = 24;
constexpr size_t kMaxMessage = 64 * 1024;  // header + payload
constexpr size_t kMaxFds = 32;             // per message
constexpr size_t kMaxString = 1024;
constexpr size_t kMaxDims = 12;     // LAROD_TENSOR_MAX_LEN
constexpr size_t kMaxTensors = 32;  // per model side and per job side
constexpr size_t kMaxMapEntries = 64;
constexpr size_t kMaxListItems = 1024;  // devices, models, buffer ids in one message

enum class Msg : uint16_t {
  kHello = 1,
  kListDevices = 2,
  kLoadModel = 3,
  kGetModels = 4,
  kGetModel = 5,
  kDeleteModel = 6,
  kAllocTensors = 7,
  kTrackBuffer = 8,
  kReleaseBuffers = 9,
  kRunJob = 10,
  kNumSessions = 11,
  kStats = 12,
  // Only honoured when ospreyd runs with --test-hooks.
  kTestPauseDevice = 100,
  kTestResumeDevice = 101,
};
constexpr uint16_t kReplyBit = 0x8000;

// Values of larodErrorCode, larodTensorDataType, larodTensorLayout and
// larodAccess as they travel on the wire (liblarod static_asserts that they
// equal the header's enums).
namespace wire {
enum Status : int32_t {
  kOk = 0,
  kErrJob = -1,
  kErrLoadModel = -2,
  kErrFd = -3,
  kErrModelNotFound = -4,
  kErrPermission = -5,
  kErrConnection = -6,
  kErrCreateSession = -7,
  kErrInvalidChipId = -9,
  kErrInvalidAccess = -10,
  kErrDeleteModel = -11,
  kErrTensorMismatch = -12,
  kErrVersionMismatch = -13,
  kErrAlloc = -14,
};
enum DataType : uint32_t {
  kTypeInvalid = 0,
  kTypeUnspecified = 1,
  kTypeBool = 2,
  kTypeUInt8 = 3,
  kTypeInt8 = 4,
  kTypeUInt16 = 5,
  kTypeInt16 = 6,
  kTypeUInt32 = 7,
  kTypeInt32 = 8,
  kTypeUInt64 = 9,
  kTypeInt64 = 10,
  kTypeFloat16 = 11,
  kTypeFloat32 = 12,
  kTypeFloat64 = 13,
  kTypeMax = 14,
};
enum Layout : uint32_t {
  kLayoutInvalid = 0,
  kLayoutUnspecified = 1,
  kLayoutNHWC = 2,
  kLayoutNCHW = 3,
  kLayout420SP = 4,
  kLayoutMax = 5,
};
enum Access : uint32_t {
  kAccessInvalid = 0,
  kAccessPrivate = 1,
  kAccessPublic = 2,
  kAccessUserProtected = 3,
};
constexpr uint32_t kPropReadWrite = 1u << 0;
constexpr uint32_t kPropMap = 1u << 1;
constexpr uint32_t kPropDmabuf = 1u << 2;
constexpr uint32_t kPropAll = kPropReadWrite | kPropMap | kPropDmabuf;
}  // namespace wire

size_t data_type_size(uint32_t type);  // 0 for invalid/unspecified
const char* data_type_name(uint32_t type);
const char* layout_name(uint32_t layout);
const char* status_name(int32_t status);

// Thrown by Reader (and the helpers) on a malformed message.
class ProtocolError : public std::runtime_error {
 public:
  explicit ProtocolError(const std::string& what) : std::runtime_error(what) {}
};

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

class Writer {
 public:
  void u8(uint8_t v) { put(&v, 1); }
  void u16(uint16_t v) { put(&v, 2); }
  void u32(uint32_t v) { put(&v, 4); }
  void i32(int32_t v) { put(&v, 4); }
  void u64(uint64_t v) { put(&v, 8); }
  void i64(int64_t v) { put(&v, 8); }
  void str(std::string_view s);
  void u64s(const std::vector<uint64_t>& v);
  const std::vector<uint8_t>& bytes() const { return buf_; }
  std::vector<uint8_t>& bytes() { return buf_; }

 private:
  void put(const void* p, size_t n);
  std::vector<uint8_t> buf_;
};

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  uint8_t u8();
  uint16_t u16();
  uint32_t u32();
  int32_t i32();
  uint64_t u64();
  int64_t i64();
  std::string str(size_t max = kMaxString);
  std::vector<uint64_t> u64s(size_t max);
  // A count for a list of at most `max` items each at least `min_item_bytes` long.
  uint32_t count(size_t max, size_t min_item_bytes);
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  void expect_end() const;

 private:
  void get(void* out, size_t n);
  const uint8_t* p_;
  const uint8_t* end_;
};

// Model / job parameters (larodMap).
struct MapValue {
  enum Type : uint8_t { kStr = 1, kInt = 2, kArr2 = 3, kArr4 = 4 };
  Type type = kInt;
  std::string s;
  int64_t v[4] = {0, 0, 0, 0};
};
using ParamMap = std::map<std::string, MapValue>;
void write_map(Writer& w, const ParamMap& map);
ParamMap read_map(Reader& r);
std::string map_value_str(const MapValue& v);  // for messages: "1920,1080"

// How a model describes one of its inputs or outputs.
struct TensorInfo {
  std::string name;
  uint32_t data_type = wire::kTypeUnspecified;
  uint32_t layout = wire::kLayoutUnspecified;
  std::vector<uint64_t> dims;
  std::vector<uint64_t> pitches;
  uint64_t byte_size = 0;
};
void write_tensor_info(Writer& w, const TensorInfo& t);
TensorInfo read_tensor_info(Reader& r);

struct ModelInfo {
  uint64_t id = 0;
  std::string name;
  std::string device;
  uint32_t instance = 0;
  uint32_t access = wire::kAccessPrivate;
  uint64_t size = 0;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
};
void write_model_info(Writer& w, const ModelInfo& m);
ModelInfo read_model_info(Reader& r);

// A tensor of a job: where its memory is and what the client says it holds.
struct TensorRef {
  enum Kind : uint8_t { kBuffer = 0, kFd = 1 };
  Kind kind = kFd;
  uint64_t buffer_id = 0;  // kBuffer: a buffer the service allocated or tracks
  uint32_t fd_index = 0;   // kFd: index into the message's file descriptors
  int64_t offset = 0;
  uint64_t fd_size = 0;  // 0 = unknown
  uint32_t props = 0;
  uint32_t data_type = wire::kTypeUnspecified;
  uint32_t layout = wire::kLayoutUnspecified;
  std::vector<uint64_t> dims;
  std::vector<uint64_t> pitches;
};
void write_tensor_ref(Writer& w, const TensorRef& t);
TensorRef read_tensor_ref(Reader& r);

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

// Reply payload prefix.
void write_status(Writer& w, int32_t status, std::string_view message);

// The socket path: $OSPREY_SOCKET, else /run/osprey/osprey.sock for root,
// else $XDG_RUNTIME_DIR/osprey.sock, else /tmp/osprey-<uid>/osprey.sock.
std::string default_socket_path();

}  // namespace osprey::service
