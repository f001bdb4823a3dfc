// Dispatching requests, replies, and the requests too small for a file of
// their own (HELLO, LIST_DEVICES, NUM_SESSIONS, STATS, the test hooks).
#include "service/daemon/log.h"
#include "service/daemon/server_internal.h"

namespace osprey::service {

void Server::send_reply(Session& s, const Message& req, const std::vector<uint8_t>& payload,
                        const std::vector<int>& fds) {
  s.send(static_cast<uint16_t>(req.header.type | kReplyBit), req.header.id, payload, fds);
}

void Server::reply_error(Session& s, const Message& req, int32_t status, const std::string& message) {
  send_reply(s, req, encode_status_reply(status, message), {});
}

bool Server::handle(Session& s, Message& m) {
  const auto type = static_cast<Msg>(m.header.type);
  if (m.header.version != kProtocolVersion) {
    log_event(kLogWarning, "protocol_error",
              {{"session", str(s.id)},
               {"error",
                "protocol version " + str(m.header.version) + ", ospreyd speaks " + str(kProtocolVersion)}});
    reply_error(s, m, wire::kErrVersionMismatch,
                "client protocol version " + str(m.header.version) + " does not match ospreyd's " +
                    str(kProtocolVersion));
    return false;
  }
  if (!s.hello && type != Msg::kHello) {
    log_event(kLogWarning, "protocol_error",
              {{"session", str(s.id)}, {"error", "first message is not HELLO"}});
    reply_error(s, m, wire::kErrConnection, "protocol error: the first message must be HELLO");
    return false;
  }
  // Only these requests may carry file descriptors.
  const bool fds_ok = type == Msg::kLoadModel || type == Msg::kTrackBuffer || type == Msg::kRunJob;
  if (!fds_ok && !m.fds.empty()) {
    log_event(kLogWarning, "protocol_error",
              {{"session", str(s.id)}, {"error", "unexpected file descriptors"}});
    reply_error(s, m, wire::kErrConnection, "protocol error: this request carries no file descriptors");
    return false;
  }
  try {
    switch (type) {
      case Msg::kHello: on_hello(s, m); break;
      case Msg::kListDevices: on_list_devices(s, m); break;
      case Msg::kLoadModel: on_load_model(s, m); break;
      case Msg::kGetModels: on_get_models(s, m); break;
      case Msg::kGetModel: on_get_model(s, m); break;
      case Msg::kDeleteModel: on_delete_model(s, m); break;
      case Msg::kAllocTensors: on_alloc_tensors(s, m); break;
      case Msg::kTrackBuffer: on_track_buffer(s, m); break;
      case Msg::kReleaseBuffers: on_release_buffers(s, m); break;
      case Msg::kRunJob: on_run_job(s, m); break;
      case Msg::kNumSessions: on_num_sessions(s, m); break;
      case Msg::kStats: on_stats(s, m); break;
      case Msg::kTestPauseDevice:
      case Msg::kTestResumeDevice:
        if (!options_.test_hooks)
          throw ProtocolError("test hooks are disabled (start ospreyd with --test-hooks)");
        on_test_hook(s, m);
        break;
      default: throw ProtocolError("unknown request type " + str(m.header.type));
    }
  } catch (const ProtocolError& e) {
    log_event(kLogWarning, "protocol_error",
              {{"session", str(s.id)}, {"request", str(m.header.type)}, {"error", e.what()}});
    reply_error(s, m, wire::kErrConnection, std::string("protocol error: ") + e.what());
    return false;
  }
  return true;
}

// ---- Small requests ---------------------------------------------------------

void Server::on_hello(Session& s, const Message& m) {
  const auto req = decode<HelloRequest>(m);
  if (s.hello) throw ProtocolError("HELLO sent twice");
  s.hello = true;
  log_event(kLogDebug, "hello", {{"session", str(s.id)}, {"client", req.client}});
  reply_ok(s, m, HelloReply{s.id, "ospreyd 0.1.0"});
}

void Server::on_list_devices(Session& s, const Message& m) {
  decode<ListDevicesRequest>(m);
  ListDevicesReply devices;
  for (auto& d : devices_) devices.devices.push_back({d->name(), d->instance()});
  reply_ok(s, m, devices);
}

Device* Server::find_device(const std::string& name, uint32_t instance) {
  for (auto& d : devices_) {
    if (d->name() == name && d->instance() == instance) return d.get();
  }
  return nullptr;
}

void Server::on_num_sessions(Session& s, const Message& m) {
  decode<NumSessionsRequest>(m);
  reply_ok(s, m, NumSessionsReply{live_sessions_.load()});
}

void Server::on_stats(Session& s, const Message& m) {
  decode<StatsRequest>(m);
  StatsReply stats;
  {
    std::lock_guard<std::mutex> lock(models_mu_);
    stats.models = models_.size();
    for (auto& [k, w] : model_cache_) stats.executables += !w.expired();
  }
  for (auto& d : devices_) stats.queued += d->queued();
  stats.sessions = live_sessions_.load();
  stats.buffers = static_cast<uint64_t>(Buffer::live_count());
  stats.memory = budget_.used();
  reply_ok(s, m, stats);
}

void Server::on_test_hook(Session& s, const Message& m) {
  const auto req = decode<DeviceHookRequest>(m);
  Device* d = find_device(req.device.name, req.device.instance);
  if (!d) return reply_error(s, m, wire::kErrInvalidChipId, "no device '" + req.device.name + "'");
  const bool pause = static_cast<Msg>(m.header.type) == Msg::kTestPauseDevice;
  if (pause) {
    d->pause();
  } else {
    d->resume();
  }
  log_event(kLogNotice, "test_hook",
            {{"session", str(s.id)}, {"device", d->label()}, {"action", pause ? "pause" : "resume"}});
  reply_ok(s, m, NoFields{});
}

}  // namespace osprey::service
