// The RUN_JOB checks of src/service/daemon/job_validation.h, without a daemon:
// real memfds and files stand in for the clients' memory.
#include "service/daemon/job_validation.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

namespace osprey::service {
namespace {

// A model with one [1,2,2,1] float input and one [1,4] float output.
class FakeModel : public LoadedModel {
 public:
  FakeModel() {
    TensorInfo in;
    in.name = "image";
    in.data_type = wire::kTypeFloat32;
    in.layout = wire::kLayoutNHWC;
    in.dims = {1, 2, 2, 1};
    in.pitches = {16, 8, 4, 4};
    in.byte_size = 16;
    TensorInfo out;
    out.name = "scores";
    out.data_type = wire::kTypeFloat32;
    out.dims = {1, 4};
    out.byte_size = 16;
    inputs = {in};
    outputs = {out};
  }
  void run(const std::vector<IoSpan>&, const std::vector<IoSpan>&, const ParamMap&) override {}
};

std::shared_ptr<Buffer> memfd_buffer(size_t size) {
  std::string error;
  auto b = Buffer::allocate(size, "test", error);
  EXPECT_TRUE(b) << error;
  return b;
}

// A status and message from a ServiceError (0 when nothing was thrown).
template <class F>
std::pair<int32_t, std::string> service_error(F&& f) {
  try {
    f();
  } catch (const ServiceError& e) {
    return {e.status(), e.what()};
  }
  return {0, ""};
}

TensorRef buffer_ref(uint64_t id) {
  TensorRef r;
  r.kind = TensorRef::kBuffer;
  r.buffer_id = id;
  return r;
}

TensorRef fd_ref(uint32_t index) {
  TensorRef r;
  r.kind = TensorRef::kFd;
  r.fd_index = index;
  r.props = wire::kPropMap | wire::kPropReadWrite;
  return r;
}

TEST(JobValidationTest, EveryFdIsInRangeAndUsed) {
  RunJobRequest req;
  req.inputs = {fd_ref(0)};
  req.outputs = {fd_ref(1)};
  EXPECT_NO_THROW(check_job_fds(req, 2));
  EXPECT_THROW(check_job_fds(req, 1), ProtocolError);  // index 1 out of range
  EXPECT_THROW(check_job_fds(req, 3), ProtocolError);  // fd 2 unused
  req.outputs = {buffer_ref(4)};
  EXPECT_NO_THROW(check_job_fds(req, 1));
}

TEST(JobValidationTest, PriorityAndTensorCounts) {
  FakeModel model;
  RunJobRequest req;
  req.inputs = {buffer_ref(1)};
  req.outputs = {buffer_ref(2)};
  EXPECT_EQ(service_error([&] { check_job_shape(req, model); }).first, 0);
  req.priority = 101;
  auto e = service_error([&] { check_job_shape(req, model); });
  EXPECT_EQ(e.first, wire::kErrJob);
  EXPECT_NE(e.second.find("outside 0..100"), std::string::npos) << e.second;
  req.priority = 100;
  req.outputs.push_back(buffer_ref(3));
  e = service_error([&] { check_job_shape(req, model); });
  EXPECT_EQ(e.first, wire::kErrTensorMismatch);
  EXPECT_EQ(e.second, "the job has 1 inputs and 2 outputs; the model has 1 and 1");
}

TEST(JobValidationTest, MemoryComesFromSessionBuffersOrTheMessageFds) {
  std::map<uint64_t, std::shared_ptr<Buffer>> session{{7, memfd_buffer(64)}};
  std::vector<UniqueFd> fds;
  fds.emplace_back(::memfd_create("client", MFD_CLOEXEC));
  ASSERT_EQ(::ftruncate(fds[0].get(), 64), 0);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  fds.emplace_back(p[0]);
  UniqueFd write_end(p[1]);
  JobMemory memory(session, fds);

  EXPECT_EQ(memory.get(buffer_ref(7), "input 0"), session[7]);
  auto e = service_error([&] { memory.get(buffer_ref(8), "input 0"); });
  EXPECT_EQ(e.first, wire::kErrFd);
  EXPECT_EQ(e.second, "input 0: unknown buffer id 8");

  auto a = memory.get(fd_ref(0), "input 0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size(), 64u);
  EXPECT_EQ(memory.get(fd_ref(0), "output 0"), a);  // one fd, one buffer
  e = service_error([&] { memory.get(fd_ref(1), "output 0"); });
  EXPECT_EQ(e.first, wire::kErrFd);
  EXPECT_NE(e.second.find("not a regular file"), std::string::npos) << e.second;
  EXPECT_EQ(service_error([&] { memory.get(fd_ref(5), "input 0"); }).first, wire::kErrFd);
}

TEST(JobValidationTest, OffsetsAndSizesStayInsideTheMemory) {
  FakeModel model;
  const TensorInfo& info = model.inputs[0];  // 16 bytes
  auto b = memfd_buffer(64);
  TensorRef ref = buffer_ref(1);

  ref.offset = 48;
  JobTensor t = bind_job_tensor(ref, info, b, false, "input 0");
  EXPECT_EQ(t.offset, 48u);
  EXPECT_EQ(t.length, 16u);
  EXPECT_EQ(t.buffer, b);

  auto expect_fd_error = [&](const TensorRef& r, const std::string& part) {
    auto e = service_error([&] { bind_job_tensor(r, info, b, false, "input 0 ('image')"); });
    EXPECT_EQ(e.first, wire::kErrFd) << part;
    EXPECT_NE(e.second.find(part), std::string::npos) << e.second;
  };
  ref.offset = 49;
  expect_fd_error(ref, "needs 16 bytes at offset 49 but the fd has 64 bytes");
  ref.offset = -8;
  expect_fd_error(ref, "negative fd offset -8");
  ref.offset = INT64_MAX;
  expect_fd_error(ref, "needs 16 bytes");
  ref.offset = 0;
  ref.fd_size = 65;
  expect_fd_error(ref, "larger than the memory behind the fd (64 bytes)");
  ref.fd_size = 24;  // the client's own limit counts too
  ref.offset = 16;
  expect_fd_error(ref, "the fd has 24 bytes");
}

TEST(JobValidationTest, OutputsMustBeWritable) {
  FakeModel model;
  char path[] = "/tmp/osprey-job-validation-XXXXXX";
  UniqueFd rw(::mkstemp(path));
  ASSERT_TRUE(rw);
  ASSERT_EQ(::ftruncate(rw.get(), 64), 0);
  UniqueFd ro(::open(path, O_RDONLY | O_CLOEXEC));
  ::unlink(path);
  std::string error;
  auto b = Buffer::adopt(std::move(ro), wire::kPropMap, error);
  ASSERT_TRUE(b) << error;
  EXPECT_NO_THROW(bind_job_tensor(buffer_ref(1), model.outputs[0], b, false, "input 0"));
  auto e = service_error([&] { bind_job_tensor(buffer_ref(1), model.outputs[0], b, true, "output 0"); });
  EXPECT_EQ(e.first, wire::kErrFd);
  EXPECT_EQ(e.second, "output 0: the fd is not writable");
}

TEST(JobValidationTest, WhatTheClientSaysMustAgreeWithTheModel) {
  FakeModel model;
  const TensorInfo& info = model.inputs[0];
  auto b = memfd_buffer(16);
  auto mismatch = [&](const TensorRef& r) {
    auto e = service_error([&] { bind_job_tensor(r, info, b, false, "input 0 ('image')"); });
    EXPECT_EQ(e.first, wire::kErrTensorMismatch) << e.second;
    return e.second;
  };
  TensorRef ref = buffer_ref(1);
  ref.dims = {1, 2, 2, 2};
  EXPECT_EQ(mismatch(ref), "input 0 ('image'): dims [1, 2, 2, 2] differ from the model's [1, 2, 2, 1]");
  ref = buffer_ref(1);
  ref.pitches = {32, 16, 8, 4};
  EXPECT_NE(mismatch(ref).find("pitches [32, 16, 8, 4]"), std::string::npos);
  ref = buffer_ref(1);
  ref.data_type = wire::kTypeUInt8;
  EXPECT_EQ(mismatch(ref), "input 0 ('image'): data type uint8 differs from the model's float32");
  ref = buffer_ref(1);
  ref.layout = wire::kLayoutNCHW;
  EXPECT_EQ(mismatch(ref), "input 0 ('image'): layout NCHW differs from the model's NHWC");

  // Agreeing or unspecified descriptions pass.
  ref = buffer_ref(1);
  ref.dims = info.dims;
  ref.pitches = info.pitches;
  ref.data_type = wire::kTypeFloat32;
  ref.layout = wire::kLayoutNHWC;
  EXPECT_NO_THROW(bind_job_tensor(ref, info, b, false, "input 0"));
  ref.data_type = wire::kTypeUnspecified;
  ref.layout = wire::kLayoutInvalid;
  EXPECT_NO_THROW(bind_job_tensor(ref, info, b, false, "input 0"));
  // A model that does not say its layout accepts any.
  ref = buffer_ref(1);
  ref.layout = wire::kLayoutNCHW;
  EXPECT_NO_THROW(bind_job_tensor(ref, model.outputs[0], memfd_buffer(16), true, "output 0"));
}

TEST(JobValidationTest, BindsBothSidesInOrder) {
  FakeModel model;
  std::map<uint64_t, std::shared_ptr<Buffer>> session{{1, memfd_buffer(16)}, {2, memfd_buffer(16)}};
  std::vector<UniqueFd> no_fds;
  JobMemory memory(session, no_fds);
  RunJobRequest req;
  req.inputs = {buffer_ref(1)};
  req.outputs = {buffer_ref(2)};
  Job job;
  bind_job_tensors(req, model, memory, job);
  ASSERT_EQ(job.inputs.size(), 1u);
  ASSERT_EQ(job.outputs.size(), 1u);
  EXPECT_EQ(job.inputs[0].buffer, session[1]);
  EXPECT_EQ(job.outputs[0].buffer, session[2]);
  req.outputs = {buffer_ref(3)};
  Job bad;
  auto e = service_error([&] { bind_job_tensors(req, model, memory, bad); });
  EXPECT_EQ(e.second, "output 0 ('scores'): unknown buffer id 3");
}

}  // namespace
}  // namespace osprey::service
