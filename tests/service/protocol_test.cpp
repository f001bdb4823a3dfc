// The message bodies of src/service/protocol.h: each decodes what it encodes,
// the bytes are the documented layout, and malformed bodies are rejected.
#include "service/protocol.h"

#include <gtest/gtest.h>

namespace osprey::service {
namespace {

template <class Body>
Body round_trip(const Body& body) {
  Writer w;
  body.write(w);
  Reader r(w.bytes().data(), w.bytes().size());
  return decode<Body>(r);
}

template <class Body>
void expect_rejected(const std::vector<uint8_t>& bytes) {
  Reader r(bytes.data(), bytes.size());
  EXPECT_THROW(decode<Body>(r), ProtocolError);
}

TensorRef sample_ref() {
  TensorRef t;
  t.kind = TensorRef::kFd;
  t.fd_index = 2;
  t.offset = 64;
  t.fd_size = 4096;
  t.props = wire::kPropMap;
  t.data_type = wire::kTypeFloat32;
  t.layout = wire::kLayoutNHWC;
  t.dims = {1, 5, 5, 2};
  return t;
}

TEST(ProtocolTest, RunJobRoundTripsAndKeepsItsWireLayout) {
  RunJobRequest job;
  job.model_id = 42;
  job.priority = 7;
  job.params["x"] = MapValue{MapValue::kInt, "", {5, 0, 0, 0}};
  job.inputs = {sample_ref()};
  TensorRef out;
  out.kind = TensorRef::kBuffer;
  out.buffer_id = 9;
  job.outputs = {out};
  const RunJobRequest back = round_trip(job);
  EXPECT_EQ(back.model_id, 42u);
  EXPECT_EQ(back.priority, 7);
  ASSERT_EQ(back.params.count("x"), 1u);
  EXPECT_EQ(back.params.at("x").v[0], 5);
  ASSERT_EQ(back.inputs.size(), 1u);
  EXPECT_EQ(back.inputs[0].fd_index, 2u);
  EXPECT_EQ(back.inputs[0].offset, 64);
  EXPECT_EQ(back.inputs[0].dims, (std::vector<uint64_t>{1, 5, 5, 2}));
  ASSERT_EQ(back.outputs.size(), 1u);
  EXPECT_EQ(back.outputs[0].kind, TensorRef::kBuffer);
  EXPECT_EQ(back.outputs[0].buffer_id, 9u);

  // The layout, field by field: model id, priority, params, then each side's
  // count and tensor references (version 1 of the protocol).
  Writer expected;
  expected.u64(42);
  expected.u8(7);
  expected.u32(1);
  expected.str("x");
  expected.u8(MapValue::kInt);
  expected.i64(5);
  expected.u32(1);
  expected.u8(TensorRef::kFd);
  expected.u32(2);
  expected.i64(64);
  expected.u64(4096);
  expected.u32(wire::kPropMap);
  expected.u32(wire::kTypeFloat32);
  expected.u32(wire::kLayoutNHWC);
  expected.u64s({1, 5, 5, 2});
  expected.u64s({});
  expected.u32(1);
  expected.u8(TensorRef::kBuffer);
  expected.u64(9);
  expected.i64(0);
  expected.u64(0);
  expected.u32(0);
  expected.u32(wire::kTypeUnspecified);
  expected.u32(wire::kLayoutUnspecified);
  expected.u64s({});
  expected.u64s({});
  Writer actual;
  job.write(actual);
  EXPECT_EQ(actual.bytes(), expected.bytes());
}

TEST(ProtocolTest, EveryRequestAndReplyRoundTrips) {
  EXPECT_EQ(round_trip(HelloRequest{"liblarod 3.1"}).client, "liblarod 3.1");
  const auto hello = round_trip(HelloReply{12, "ospreyd 0.1.0"});
  EXPECT_EQ(hello.session, 12u);
  EXPECT_EQ(hello.server, "ospreyd 0.1.0");

  ListDevicesReply devices;
  devices.devices = {{"cpu-tflite", 0}, {"cpu-proc", 1}};
  const auto d = round_trip(devices);
  ASSERT_EQ(d.devices.size(), 2u);
  EXPECT_EQ(d.devices[1].name, "cpu-proc");
  EXPECT_EQ(d.devices[1].instance, 1u);

  LoadModelRequest load;
  load.has_fd = true;
  load.device = {"cpu-tflite", 0};
  load.access = wire::kAccessPublic;
  load.name = "tiny";
  load.params["image.input.size"] = MapValue{MapValue::kArr2, "", {640, 480, 0, 0}};
  const auto l = round_trip(load);
  EXPECT_TRUE(l.has_fd);
  EXPECT_EQ(l.device.name, "cpu-tflite");
  EXPECT_EQ(l.access, static_cast<uint32_t>(wire::kAccessPublic));
  EXPECT_EQ(l.name, "tiny");
  EXPECT_EQ(l.params.at("image.input.size").v[1], 480);

  ModelInfo model;
  model.id = 3;
  model.name = "m";
  model.device = "cpu-tflite";
  model.size = 1234;
  TensorInfo in;
  in.name = "input";
  in.data_type = wire::kTypeUInt8;
  in.dims = {1, 2, 3};
  in.pitches = {6, 6, 3};
  in.byte_size = 6;
  model.inputs = {in};
  model.outputs = {in, in};
  const auto m = round_trip(model);
  EXPECT_EQ(m.id, 3u);
  EXPECT_EQ(m.size, 1234u);
  ASSERT_EQ(m.outputs.size(), 2u);
  EXPECT_EQ(m.inputs[0].pitches, in.pitches);
  EXPECT_EQ(m.inputs[0].byte_size, 6u);

  GetModelsReply models;
  models.models = {model, model};
  EXPECT_EQ(round_trip(models).models.size(), 2u);
  EXPECT_EQ(round_trip(GetModelRequest{77}).model_id, 77u);
  EXPECT_EQ(round_trip(DeleteModelRequest{78}).model_id, 78u);

  AllocTensorsRequest alloc;
  alloc.model_id = 5;
  alloc.outputs = true;
  alloc.props = wire::kPropReadWrite;
  const auto a = round_trip(alloc);
  EXPECT_TRUE(a.outputs);
  EXPECT_EQ(a.props, wire::kPropReadWrite);
  AllocTensorsReply allocated;
  allocated.buffers = {{1, 100, 3}, {2, 200, 3}};
  const auto ab = round_trip(allocated);
  ASSERT_EQ(ab.buffers.size(), 2u);
  EXPECT_EQ(ab.buffers[1].size, 200u);

  EXPECT_EQ(round_trip(TrackBufferRequest{wire::kPropMap}).props, wire::kPropMap);
  const auto tracked = round_trip(TrackBufferReply{8, 4096});
  EXPECT_EQ(tracked.buffer_id, 8u);
  EXPECT_EQ(tracked.size, 4096u);
  EXPECT_EQ(round_trip(ReleaseBuffersRequest{{1, 2, 3}}).buffer_ids, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(round_trip(NumSessionsReply{4}).sessions, 4u);
  const auto stats = round_trip(StatsReply{1, 2, 3, 4, 5});
  EXPECT_EQ(stats.executables, 3u);
  EXPECT_EQ(stats.queued, 5u);
  EXPECT_EQ(round_trip(DeviceHookRequest{{"cpu-proc", 0}}).device.name, "cpu-proc");
  const auto status = round_trip(ReplyStatus{wire::kErrFd, "bad fd"});
  EXPECT_EQ(status.status, wire::kErrFd);
  EXPECT_EQ(status.message, "bad fd");
}

TEST(ProtocolTest, RepliesStartWithTheStatus) {
  const auto ok = encode_ok_reply(NumSessionsReply{9});
  Reader r(ok.data(), ok.size());
  EXPECT_EQ(ReplyStatus::read(r).status, wire::kOk);
  EXPECT_EQ(decode<NumSessionsReply>(r).sessions, 9u);
  const auto err = encode_status_reply(wire::kErrJob, std::string(5000, 'x'));
  Reader e(err.data(), err.size());
  const auto status = decode<ReplyStatus>(e);
  EXPECT_EQ(status.status, wire::kErrJob);
  EXPECT_EQ(status.message.size(), kMaxString);  // long messages are cut, never rejected
}

TEST(ProtocolTest, MalformedBodiesAreRejected) {
  Writer trailing;
  GetModelRequest{1}.write(trailing);
  trailing.u8(0);
  expect_rejected<GetModelRequest>(trailing.bytes());
  expect_rejected<GetModelRequest>({1, 2, 3});  // ends early

  Writer side;
  side.u64(1);
  side.u8(2);  // neither inputs nor outputs
  side.u32(0);
  side.u32(0);
  expect_rejected<AllocTensorsRequest>(side.bytes());

  Writer name;
  name.u8(0);
  name.str("cpu-tflite");
  name.u32(0);
  name.u32(wire::kAccessPrivate);
  name.str(std::string(kMaxModelName + 1, 'n'));
  name.u32(0);
  expect_rejected<LoadModelRequest>(name.bytes());

  Writer many;
  many.u64(1);
  many.u8(50);
  many.u32(0);
  many.u32(1000000);  // a million input tensors
  expect_rejected<RunJobRequest>(many.bytes());

  Writer kind;
  kind.u64(1);
  kind.u8(50);
  kind.u32(0);
  kind.u32(1);
  kind.u8(7);  // no such tensor reference kind
  for (int i = 0; i < 40; ++i) kind.u8(0);
  expect_rejected<RunJobRequest>(kind.bytes());

  Writer dims;
  TensorRef too_many = sample_ref();
  too_many.dims.assign(kMaxDims + 1, 1);
  too_many.write(dims);
  Reader r(dims.bytes().data(), dims.bytes().size());
  EXPECT_THROW(TensorRef::read(r), ProtocolError);
}

TEST(ProtocolTest, ModelListIsCutToOneMessage) {
  GetModelsReply models;
  ModelInfo big;
  big.name = std::string(1000, 'm');
  models.models.assign(200, big);
  Writer w;
  models.write(w);
  EXPECT_LE(w.bytes().size() + kHeaderSize, kMaxMessage);
  Reader r(w.bytes().data(), w.bytes().size());
  const auto back = decode<GetModelsReply>(r);
  EXPECT_GT(back.models.size(), 10u);
  EXPECT_LT(back.models.size(), 200u);
}

}  // namespace
}  // namespace osprey::service
