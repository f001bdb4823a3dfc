// The wire protocol between liblarod and ospreyd: what each message says.
//
// Framing (header, fds, size limits) is in transport.h, the byte encoding in
// codec.h. Strings and arrays carry a u32 count and are bounded (kMaxString,
// ...); a reader checks every length against what is left before using it
// and rejects trailing bytes. Tensor data never crosses the socket: it lives
// in memory both ends map from a file descriptor.
//
// Every request carries an id that its reply echoes; replies set kReplyBit in
// the type and start with a ReplyStatus (a larodErrorCode and a message).
// Each body below is a struct whose write() is its only encoder and read()
// its only decoder, so liblarod and ospreyd cannot disagree on a layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "service/codec.h"
#include "service/transport.h"

namespace osprey::service {

constexpr size_t kMaxDims = 12;     // LAROD_TENSOR_MAX_LEN
constexpr size_t kMaxTensors = 32;  // per model side and per job side
constexpr size_t kMaxMapEntries = 64;
constexpr size_t kMaxListItems = 1024;  // devices, models, buffer ids in one message
constexpr size_t kMaxModelName = 256;

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

// ---- Parts of messages ------------------------------------------------------

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
  void write(Writer& w) const;
  static TensorInfo read(Reader& r);
};

// A loaded model as clients see it (the reply to LOAD_MODEL and GET_MODEL).
struct ModelInfo {
  uint64_t id = 0;
  std::string name;
  std::string device;
  uint32_t instance = 0;
  uint32_t access = wire::kAccessPrivate;
  uint64_t size = 0;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  void write(Writer& w) const;
  static ModelInfo read(Reader& r);
};

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
  void write(Writer& w) const;
  static TensorRef read(Reader& r);
};

// The prefix of every reply.
struct ReplyStatus {
  int32_t status = wire::kOk;
  std::string message;
  void write(Writer& w) const;  // truncates the message to kMaxString
  static ReplyStatus read(Reader& r);
};

// A body with no fields.
struct NoFields {
  void write(Writer&) const {}
  static NoFields read(Reader&) { return {}; }
};

// ---- Requests and their replies ---------------------------------------------
// A request names its type (kType; the device hooks take one of two) and the
// body of its successful reply (Reply).

struct HelloReply {
  uint64_t session = 0;
  std::string server;  // "ospreyd 0.1.0"
  void write(Writer& w) const;
  static HelloReply read(Reader& r);
};
struct HelloRequest {
  static constexpr Msg kType = Msg::kHello;
  using Reply = HelloReply;
  std::string client;
  void write(Writer& w) const;
  static HelloRequest read(Reader& r);
};

struct DeviceId {
  std::string name;
  uint32_t instance = 0;
};
struct ListDevicesReply {
  std::vector<DeviceId> devices;
  void write(Writer& w) const;
  static ListDevicesReply read(Reader& r);
};
struct ListDevicesRequest : NoFields {
  static constexpr Msg kType = Msg::kListDevices;
  using Reply = ListDevicesReply;
  static ListDevicesRequest read(Reader&) { return {}; }
};

// Carries the model file's fd when has_fd (cpu-proc models have none).
struct LoadModelRequest {
  static constexpr Msg kType = Msg::kLoadModel;
  using Reply = ModelInfo;
  bool has_fd = false;
  DeviceId device;
  uint32_t access = wire::kAccessPrivate;
  std::string name;  // at most kMaxModelName bytes
  ParamMap params;
  void write(Writer& w) const;
  static LoadModelRequest read(Reader& r);
};

struct GetModelsReply {
  std::vector<ModelInfo> models;
  // Writes as many models as fit in one message (rarely matters: a session
  // sees its own models plus public ones).
  void write(Writer& w) const;
  static GetModelsReply read(Reader& r);
};
struct GetModelsRequest : NoFields {
  static constexpr Msg kType = Msg::kGetModels;
  using Reply = GetModelsReply;
  static GetModelsRequest read(Reader&) { return {}; }
};

struct GetModelRequest {
  static constexpr Msg kType = Msg::kGetModel;
  using Reply = ModelInfo;
  uint64_t model_id = 0;
  void write(Writer& w) const;
  static GetModelRequest read(Reader& r);
};

struct DeleteModelRequest {
  static constexpr Msg kType = Msg::kDeleteModel;
  using Reply = NoFields;
  uint64_t model_id = 0;
  void write(Writer& w) const;
  static DeleteModelRequest read(Reader& r);
};

// The reply carries one memfd per buffer, in order.
struct AllocatedBuffer {
  uint64_t id = 0;
  uint64_t size = 0;
  uint32_t props = 0;
};
struct AllocTensorsReply {
  std::vector<AllocatedBuffer> buffers;
  void write(Writer& w) const;
  static AllocTensorsReply read(Reader& r);
};
struct AllocTensorsRequest {
  static constexpr Msg kType = Msg::kAllocTensors;
  using Reply = AllocTensorsReply;
  uint64_t model_id = 0;
  bool outputs = false;  // the model's inputs or its outputs
  uint32_t props = 0;
  ParamMap params;
  void write(Writer& w) const;
  static AllocTensorsRequest read(Reader& r);
};

// Carries the fd to track.
struct TrackBufferReply {
  uint64_t buffer_id = 0;
  uint64_t size = 0;
  void write(Writer& w) const;
  static TrackBufferReply read(Reader& r);
};
struct TrackBufferRequest {
  static constexpr Msg kType = Msg::kTrackBuffer;
  using Reply = TrackBufferReply;
  uint32_t props = 0;
  void write(Writer& w) const;
  static TrackBufferRequest read(Reader& r);
};

struct ReleaseBuffersRequest {
  static constexpr Msg kType = Msg::kReleaseBuffers;
  using Reply = NoFields;
  std::vector<uint64_t> buffer_ids;  // at most kMaxListItems
  void write(Writer& w) const;
  static ReleaseBuffersRequest read(Reader& r);
};

// Carries the fds of tensors given by fd (TensorRef::fd_index).
struct RunJobRequest {
  static constexpr Msg kType = Msg::kRunJob;
  using Reply = NoFields;
  uint64_t model_id = 0;
  uint8_t priority = 50;
  ParamMap params;
  std::vector<TensorRef> inputs;
  std::vector<TensorRef> outputs;
  void write(Writer& w) const;
  static RunJobRequest read(Reader& r);
};

struct NumSessionsReply {
  uint64_t sessions = 0;
  void write(Writer& w) const;
  static NumSessionsReply read(Reader& r);
};
struct NumSessionsRequest : NoFields {
  static constexpr Msg kType = Msg::kNumSessions;
  using Reply = NumSessionsReply;
  static NumSessionsRequest read(Reader&) { return {}; }
};

struct StatsReply {
  uint64_t sessions = 0, models = 0, executables = 0, buffers = 0, queued = 0;
  uint64_t memory = 0;  // bytes charged to ospreyd's memory budget
  void write(Writer& w) const;
  static StatsReply read(Reader& r);
};
struct StatsRequest : NoFields {
  static constexpr Msg kType = Msg::kStats;
  using Reply = StatsReply;
  static StatsRequest read(Reader&) { return {}; }
};

// kTestPauseDevice / kTestResumeDevice.
struct DeviceHookRequest {
  using Reply = NoFields;
  DeviceId device;
  void write(Writer& w) const;
  static DeviceHookRequest read(Reader& r);
};

// A whole body: decodes it and rejects trailing bytes.
template <class Body>
Body decode(Reader& r) {
  Body body = Body::read(r);
  r.expect_end();
  return body;
}
template <class Body>
Body decode(const Message& m) {
  Reader r = m.reader();
  return decode<Body>(r);
}

// A successful reply's payload: ReplyStatus{kOk} then the body.
template <class Body>
std::vector<uint8_t> encode_ok_reply(const Body& body) {
  Writer w;
  ReplyStatus{}.write(w);
  body.write(w);
  return std::move(w.bytes());
}
std::vector<uint8_t> encode_status_reply(int32_t status, std::string_view message);

}  // namespace osprey::service
