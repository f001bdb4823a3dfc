// libFuzzer target: any bytes as the body of each request and reply that
// liblarod and ospreyd exchange (the first byte picks the message). A body
// decodes or is refused with a ProtocolError, never a crash, an unbounded
// allocation or undefined behaviour; and what decodes, encodes to bytes that
// decode again to the same encoding (write() and read() agree on the layout).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "service/codec.h"
#include "service/protocol.h"

namespace osprey::service {
namespace {

template <class Body>
std::vector<uint8_t> encode(const Body& body) {
  Writer w;
  body.write(w);
  return std::move(w.bytes());
}

template <class Body>
void check(const uint8_t* data, size_t size) {
  Body body;
  try {
    Reader r(data, size);
    body = decode<Body>(r);
  } catch (const ProtocolError&) {
    return;  // refused: what a hostile peer's bytes should get
  }
  const std::vector<uint8_t> once = encode(body);
  Body again;
  try {
    Reader r(once.data(), once.size());
    again = decode<Body>(r);
  } catch (const ProtocolError& e) {
    std::fprintf(stderr, "a decoded body encodes to bytes its decoder refuses: %s\n", e.what());
    std::abort();
  }
  if (encode(again) != once) {
    std::fprintf(stderr, "a body's encoding changed on a second round trip\n");
    std::abort();
  }
}

using Check = void (*)(const uint8_t*, size_t);
constexpr Check kChecks[] = {
    check<ReplyStatus>,        check<HelloRequest>,
    check<HelloReply>,         check<ListDevicesReply>,
    check<LoadModelRequest>,   check<ModelInfo>,
    check<GetModelsReply>,     check<GetModelRequest>,
    check<DeleteModelRequest>, check<AllocTensorsRequest>,
    check<AllocTensorsReply>,  check<TrackBufferRequest>,
    check<TrackBufferReply>,   check<ReleaseBuffersRequest>,
    check<RunJobRequest>,      check<NumSessionsReply>,
    check<StatsReply>,         check<DeviceHookRequest>,
};

}  // namespace
}  // namespace osprey::service

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using osprey::service::kChecks;
  if (size == 0) return 0;
  constexpr size_t kCount = sizeof kChecks / sizeof kChecks[0];
  kChecks[data[0] % kCount](data + 1, size - 1);
  return 0;
}
