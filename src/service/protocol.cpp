#include "service/protocol.h"

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

// ---- Parts -------------------------------------------------------------------

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

void TensorInfo::write(Writer& w) const {
  w.str(name);
  w.u32(data_type);
  w.u32(layout);
  w.u64s(dims);
  w.u64s(pitches);
  w.u64(byte_size);
}

TensorInfo TensorInfo::read(Reader& r) {
  TensorInfo t;
  t.name = r.str();
  t.data_type = r.u32();
  t.layout = r.u32();
  t.dims = r.u64s(kMaxDims);
  t.pitches = r.u64s(kMaxDims);
  t.byte_size = r.u64();
  return t;
}

void ModelInfo::write(Writer& w) const {
  w.u64(id);
  w.str(name);
  w.str(device);
  w.u32(instance);
  w.u32(access);
  w.u64(size);
  w.u32(static_cast<uint32_t>(inputs.size()));
  for (const auto& t : inputs) t.write(w);
  w.u32(static_cast<uint32_t>(outputs.size()));
  for (const auto& t : outputs) t.write(w);
}

ModelInfo ModelInfo::read(Reader& r) {
  ModelInfo m;
  m.id = r.u64();
  m.name = r.str();
  m.device = r.str();
  m.instance = r.u32();
  m.access = r.u32();
  m.size = r.u64();
  uint32_t n = r.count(kMaxTensors, 24);
  for (uint32_t i = 0; i < n; ++i) m.inputs.push_back(TensorInfo::read(r));
  n = r.count(kMaxTensors, 24);
  for (uint32_t i = 0; i < n; ++i) m.outputs.push_back(TensorInfo::read(r));
  return m;
}

void TensorRef::write(Writer& w) const {
  w.u8(kind);
  if (kind == kBuffer) {
    w.u64(buffer_id);
  } else {
    w.u32(fd_index);
  }
  w.i64(offset);
  w.u64(fd_size);
  w.u32(props);
  w.u32(data_type);
  w.u32(layout);
  w.u64s(dims);
  w.u64s(pitches);
}

TensorRef TensorRef::read(Reader& r) {
  TensorRef t;
  uint8_t kind = r.u8();
  if (kind == kBuffer) {
    t.kind = kBuffer;
    t.buffer_id = r.u64();
  } else if (kind == kFd) {
    t.kind = kFd;
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

void ReplyStatus::write(Writer& w) const {
  w.i32(status);
  w.str(std::string_view(message).substr(0, kMaxString));
}

ReplyStatus ReplyStatus::read(Reader& r) {
  ReplyStatus s;
  s.status = r.i32();
  s.message = r.str();
  return s;
}

std::vector<uint8_t> encode_status_reply(int32_t status, std::string_view message) {
  Writer w;
  ReplyStatus{status, std::string(message.substr(0, kMaxString))}.write(w);
  return std::move(w.bytes());
}

// ---- Requests and replies ------------------------------------------------------

void HelloRequest::write(Writer& w) const {
  w.str(client);
}
HelloRequest HelloRequest::read(Reader& r) {
  return {r.str()};
}

void HelloReply::write(Writer& w) const {
  w.u64(session);
  w.str(server);
}
HelloReply HelloReply::read(Reader& r) {
  HelloReply h;
  h.session = r.u64();
  h.server = r.str();
  return h;
}

void ListDevicesReply::write(Writer& w) const {
  w.u32(static_cast<uint32_t>(devices.size()));
  for (const auto& d : devices) {
    w.str(d.name);
    w.u32(d.instance);
  }
}
ListDevicesReply ListDevicesReply::read(Reader& r) {
  ListDevicesReply l;
  const uint32_t n = r.count(kMaxListItems, 8);
  for (uint32_t i = 0; i < n; ++i) {
    DeviceId d;
    d.name = r.str();
    d.instance = r.u32();
    l.devices.push_back(std::move(d));
  }
  return l;
}

void LoadModelRequest::write(Writer& w) const {
  w.u8(has_fd ? 1 : 0);
  w.str(device.name);
  w.u32(device.instance);
  w.u32(access);
  w.str(name);
  write_map(w, params);
}
LoadModelRequest LoadModelRequest::read(Reader& r) {
  LoadModelRequest l;
  l.has_fd = r.u8() != 0;
  l.device.name = r.str();
  l.device.instance = r.u32();
  l.access = r.u32();
  l.name = r.str(kMaxModelName);
  l.params = read_map(r);
  return l;
}

void GetModelsReply::write(Writer& w) const {
  Writer items;
  uint32_t count = 0;
  for (const auto& info : models) {
    Writer one;
    info.write(one);
    if (items.bytes().size() + one.bytes().size() + 256 > kMaxMessage) break;
    items.append(one);
    ++count;
  }
  w.u32(count);
  w.append(items);
}
GetModelsReply GetModelsReply::read(Reader& r) {
  GetModelsReply g;
  const uint32_t n = r.count(kMaxListItems, 40);
  for (uint32_t i = 0; i < n; ++i) g.models.push_back(ModelInfo::read(r));
  return g;
}

void GetModelRequest::write(Writer& w) const {
  w.u64(model_id);
}
GetModelRequest GetModelRequest::read(Reader& r) {
  return {r.u64()};
}

void DeleteModelRequest::write(Writer& w) const {
  w.u64(model_id);
}
DeleteModelRequest DeleteModelRequest::read(Reader& r) {
  return {r.u64()};
}

void AllocTensorsRequest::write(Writer& w) const {
  w.u64(model_id);
  w.u8(outputs ? 1 : 0);
  w.u32(props);
  write_map(w, params);
}
AllocTensorsRequest AllocTensorsRequest::read(Reader& r) {
  AllocTensorsRequest a;
  a.model_id = r.u64();
  const uint8_t side = r.u8();
  a.props = r.u32();
  a.params = read_map(r);
  if (side > 1) throw ProtocolError("ALLOC_TENSORS side must be 0 (inputs) or 1 (outputs)");
  a.outputs = side == 1;
  return a;
}

void AllocTensorsReply::write(Writer& w) const {
  w.u32(static_cast<uint32_t>(buffers.size()));
  for (const auto& b : buffers) {
    w.u64(b.id);
    w.u64(b.size);
    w.u32(b.props);
  }
}
AllocTensorsReply AllocTensorsReply::read(Reader& r) {
  AllocTensorsReply a;
  const uint32_t n = r.count(kMaxTensors, 20);
  for (uint32_t i = 0; i < n; ++i) {
    AllocatedBuffer b;
    b.id = r.u64();
    b.size = r.u64();
    b.props = r.u32();
    a.buffers.push_back(b);
  }
  return a;
}

void TrackBufferRequest::write(Writer& w) const {
  w.u32(props);
}
TrackBufferRequest TrackBufferRequest::read(Reader& r) {
  return {r.u32()};
}

void TrackBufferReply::write(Writer& w) const {
  w.u64(buffer_id);
  w.u64(size);
}
TrackBufferReply TrackBufferReply::read(Reader& r) {
  TrackBufferReply t;
  t.buffer_id = r.u64();
  t.size = r.u64();
  return t;
}

void ReleaseBuffersRequest::write(Writer& w) const {
  w.u64s(buffer_ids);
}
ReleaseBuffersRequest ReleaseBuffersRequest::read(Reader& r) {
  return {r.u64s(kMaxListItems)};
}

void RunJobRequest::write(Writer& w) const {
  w.u64(model_id);
  w.u8(priority);
  write_map(w, params);
  w.u32(static_cast<uint32_t>(inputs.size()));
  for (const auto& t : inputs) t.write(w);
  w.u32(static_cast<uint32_t>(outputs.size()));
  for (const auto& t : outputs) t.write(w);
}
RunJobRequest RunJobRequest::read(Reader& r) {
  constexpr size_t kMinTensorRef = 29;  // kind, fd index, offset, size, props, type, layout, 2 counts
  RunJobRequest j;
  j.model_id = r.u64();
  j.priority = r.u8();
  j.params = read_map(r);
  uint32_t n = r.count(kMaxTensors, kMinTensorRef);
  for (uint32_t i = 0; i < n; ++i) j.inputs.push_back(TensorRef::read(r));
  n = r.count(kMaxTensors, kMinTensorRef);
  for (uint32_t i = 0; i < n; ++i) j.outputs.push_back(TensorRef::read(r));
  return j;
}

void NumSessionsReply::write(Writer& w) const {
  w.u64(sessions);
}
NumSessionsReply NumSessionsReply::read(Reader& r) {
  return {r.u64()};
}

void StatsReply::write(Writer& w) const {
  w.u64(sessions);
  w.u64(models);
  w.u64(executables);
  w.u64(buffers);
  w.u64(queued);
  w.u64(memory);
}
StatsReply StatsReply::read(Reader& r) {
  StatsReply s;
  s.sessions = r.u64();
  s.models = r.u64();
  s.executables = r.u64();
  s.buffers = r.u64();
  s.queued = r.u64();
  s.memory = r.u64();
  return s;
}

void DeviceHookRequest::write(Writer& w) const {
  w.str(device.name);
  w.u32(device.instance);
}
DeviceHookRequest DeviceHookRequest::read(Reader& r) {
  DeviceHookRequest d;
  d.device.name = r.str();
  d.device.instance = r.u32();
  return d;
}

}  // namespace osprey::service
