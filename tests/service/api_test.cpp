// The Larod C API against a private ospreyd: results equal in-process osprey,
// errors carry clear codes and messages, access rules hold.
#include <libyuv.h>
#include <sys/mman.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "service_fixture.h"

namespace osprey::service::testing {
namespace {

class ApiTest : public ServiceTest {};

TEST_F(ApiTest, DevicesAndSessions) {
  larodConnection* c = connect();
  ASSERT_NE(c, nullptr);
  Err e;
  size_t n = 0;
  const larodDevice** devs = larodListDevices(c, &n, &e);
  ASSERT_NE(devs, nullptr) << e.msg();
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i) {
    uint32_t instance = 99;
    ASSERT_TRUE(larodGetDeviceInstance(devs[i], &instance, &e));
    EXPECT_EQ(instance, 0u);
    names.push_back(larodGetDeviceName(devs[i], &e));
  }
  std::free(devs);
  EXPECT_EQ(names, (std::vector<std::string>{"cpu-tflite", "cpu-proc", "google-edge-tpu-tflite",
                                             "axis-a8-dlpu-tflite", "a9-dlpu-tflite"}));

  const larodDevice* tflite = larodGetDevice(c, "cpu-tflite", 0, &e);
  ASSERT_NE(tflite, nullptr);
  EXPECT_EQ(larodGetDevice(c, "cpu-tflite", 0, &e), tflite);         // handles are stable
  EXPECT_EQ(larodGetDevice(c, "ambarella-cvflow", 0, &e), nullptr);  // not emulated
  EXPECT_EQ(e.code(), LAROD_ERROR_INVALID_CHIP_ID);
  EXPECT_NE(e.msg().find("cpu-tflite:0"), std::string::npos) << e.msg();  // names what exists
  e.clear();

  larodConnection* c2 = connect();
  uint64_t sessions = 0;
  ASSERT_TRUE(larodGetNumSessions(c, &sessions, &e)) << e.msg();
  EXPECT_EQ(sessions, 2u);
  ASSERT_TRUE(larodDisconnect(&c2, &e));
  EXPECT_EQ(c2, nullptr);
  EXPECT_TRUE(eventually([&] { return larodGetNumSessions(c, &sessions, nullptr) && sessions == 1; }));
  ASSERT_TRUE(larodDisconnect(&c, &e));
}

TEST_F(ApiTest, SyncJobsEqualInProcessResults) {
  larodConnection* c = connect();
  larodModel* m = load_tiny(c);
  ASSERT_NE(m, nullptr);
  Err e;
  EXPECT_STREQ(larodGetModelName(m, &e), "tiny");
  EXPECT_EQ(larodGetModelAccess(m, &e), LAROD_ACCESS_PRIVATE);
  EXPECT_EQ(larodGetModelSize(m, &e), tiny_model_bytes().size());
  EXPECT_EQ(larodGetModelNumInputs(m, &e), 1u);
  EXPECT_EQ(larodGetModelNumOutputs(m, &e), 1u);
  EXPECT_NE(larodGetModelId(m, &e), LAROD_INVALID_MODEL_ID);
  const larodDevice* dev = larodGetModelDevice(m, &e);
  EXPECT_STREQ(larodGetDeviceName(dev, &e), "cpu-tflite");
  size_t n = 0;
  size_t* sizes = larodGetModelInputByteSizes(m, &n, &e);
  ASSERT_NE(sizes, nullptr);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(sizes[0], 5u * 5 * 2 * 4);
  std::free(sizes);
  sizes = larodGetModelOutputByteSizes(m, &n, &e);
  EXPECT_EQ(sizes[0], 5u * 5 * 4 * 4);
  std::free(sizes);

  size_t n_in = 0, n_out = 0;
  larodTensor** in = larodAllocModelInputs(c, m, LAROD_FD_PROP_MAP, &n_in, nullptr, &e);
  ASSERT_NE(in, nullptr) << e.msg();
  larodTensor** out = larodAllocModelOutputs(c, m, LAROD_FD_PROP_MAP, &n_out, nullptr, &e);
  ASSERT_NE(out, nullptr) << e.msg();
  ASSERT_EQ(n_in, 1u);
  ASSERT_EQ(n_out, 1u);

  // The tensors describe the model's tensors.
  const larodTensorDims* dims = larodGetTensorDims(in[0], &e);
  ASSERT_EQ(dims->len, 4u);
  EXPECT_EQ(dims->dims[3], 2u);
  const larodTensorPitches* pitches = larodGetTensorPitches(in[0], &e);
  ASSERT_EQ(pitches->len, 4u);
  EXPECT_EQ(pitches->pitches[0], 200u);
  EXPECT_EQ(pitches->pitches[3], 8u);
  EXPECT_EQ(larodGetTensorDataType(in[0], &e), LAROD_TENSOR_DATA_TYPE_FLOAT32);
  EXPECT_EQ(larodGetTensorLayout(in[0], &e), LAROD_TENSOR_LAYOUT_NHWC);
  EXPECT_STREQ(larodGetTensorName(in[0], &e), "input");
  EXPECT_STREQ(larodGetTensorName(out[0], &e), "output");
  size_t bytes = 0;
  ASSERT_TRUE(larodGetTensorByteSize(out[0], &bytes, &e));
  EXPECT_EQ(bytes, 400u);
  EXPECT_GE(larodGetTensorFd(in[0], &e), 0);
  EXPECT_EQ(larodGetTensorFdOffset(in[0], &e), 0);
  uint32_t props = 0;
  ASSERT_TRUE(larodGetTensorFdProps(in[0], &props, &e));
  EXPECT_TRUE(props & LAROD_FD_PROP_MAP);

  larodJobRequest* req = larodCreateJobRequest(m, in, n_in, out, n_out, nullptr, &e);
  ASSERT_NE(req, nullptr) << e.msg();
  Mapped min(in[0]), mout(out[0]);
  Reference ref;
  for (int round = 0; round < 20; ++round) {
    std::vector<float> input = random_input(static_cast<uint64_t>(round));
    std::memcpy(min.data(), input.data(), 200);
    ASSERT_TRUE(larodRunJob(c, req, &e)) << e.msg();
    std::vector<float> expected = ref.run(input);
    ASSERT_EQ(std::memcmp(mout.data(), expected.data(), 400), 0) << "round " << round;
  }
  larodDestroyJobRequest(&req);
  EXPECT_EQ(req, nullptr);
  ASSERT_TRUE(larodDestroyTensors(c, &in, n_in, &e)) << e.msg();
  ASSERT_TRUE(larodDestroyTensors(c, &out, n_out, &e)) << e.msg();
  EXPECT_EQ(in, nullptr);
  ASSERT_TRUE(larodDeleteModel(c, m, &e)) << e.msg();
  larodDestroyModel(&m);
  RawClient raw(socket_);
  ASSERT_TRUE(raw.hello());
  RawClient::Stats st;
  ASSERT_TRUE(raw.stats(st));
  EXPECT_EQ(st.buffers, 0u);
  EXPECT_EQ(st.models, 0u);
  larodDisconnect(&c, nullptr);
}

TEST_F(ApiTest, ApplicationFdsOffsetsTrackingAndReadWriteFiles) {
  larodConnection* c = connect();
  larodModel* m = load_tiny(c);
  Err e;
  size_t n = 0;
  larodTensor** in = larodCreateModelInputs(m, &n, &e);
  ASSERT_NE(in, nullptr) << e.msg();
  larodTensor** out = larodCreateModelOutputs(m, &n, &e);
  ASSERT_NE(out, nullptr) << e.msg();
  EXPECT_EQ(larodGetTensorFd(in[0], &e), LAROD_INVALID_FD);

  // One memfd holds both tensors at offsets, as camera buffer pools do.
  int fd = make_memfd(16384);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(larodSetTensorFd(in[0], fd, &e));
  ASSERT_TRUE(larodSetTensorFdOffset(in[0], 4096, &e));
  ASSERT_TRUE(larodSetTensorFd(out[0], fd, &e));
  ASSERT_TRUE(larodSetTensorFdOffset(out[0], 8192, &e));
  ASSERT_TRUE(larodSetTensorFdSize(out[0], 16384, &e));
  uint8_t* mem = static_cast<uint8_t*>(::mmap(nullptr, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  ASSERT_NE(mem, MAP_FAILED);
  larodJobRequest* req = larodCreateJobRequest(m, in, 1, out, 1, nullptr, &e);
  ASSERT_NE(req, nullptr);
  Reference ref;
  std::vector<float> input = random_input(7);
  std::memcpy(mem + 4096, input.data(), 200);
  ASSERT_TRUE(larodRunJob(c, req, &e)) << e.msg();
  EXPECT_EQ(std::memcmp(mem + 8192, ref.run(input).data(), 400), 0);

  // Tracked: the fd is registered once; results stay right.
  ASSERT_TRUE(larodTrackTensor(c, in[0], &e)) << e.msg();
  ASSERT_TRUE(larodTrackTensor(c, out[0], &e)) << e.msg();
  EXPECT_FALSE(larodSetTensorFd(in[0], 0, &e));  // a tracked tensor's fd cannot change
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  e.clear();
  input = random_input(8);
  std::memcpy(mem + 4096, input.data(), 200);
  ASSERT_TRUE(larodRunJob(c, req, &e)) << e.msg();
  EXPECT_EQ(std::memcmp(mem + 8192, ref.run(input).data(), 400), 0);
  larodDestroyJobRequest(&req);
  ASSERT_TRUE(larodDestroyTensors(c, &in, 1, &e));
  ASSERT_TRUE(larodDestroyTensors(c, &out, 1, &e));

  // Regular files with READWRITE only: the service uses pread/pwrite.
  in = larodCreateModelInputs(m, &n, &e);
  out = larodCreateModelOutputs(m, &n, &e);
  std::string in_path = dir_.path() + "/in.bin", out_path = dir_.path() + "/out.bin";
  input = random_input(9);
  write_file(in_path, std::vector<uint8_t>(reinterpret_cast<uint8_t*>(input.data()),
                                           reinterpret_cast<uint8_t*>(input.data()) + 200));
  write_file(out_path, std::vector<uint8_t>(400, 0));
  int in_fd = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  int out_fd = ::open(out_path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_TRUE(larodSetTensorFd(in[0], in_fd, &e));
  ASSERT_TRUE(larodSetTensorFd(out[0], out_fd, &e));
  ASSERT_TRUE(larodSetTensorFdProps(in[0], LAROD_FD_PROP_READWRITE, &e));
  ASSERT_TRUE(larodSetTensorFdProps(out[0], LAROD_FD_PROP_READWRITE, &e));
  req = larodCreateJobRequest(m, in, 1, out, 1, nullptr, &e);
  ASSERT_TRUE(larodRunJob(c, req, &e)) << e.msg();
  std::string result = read_file(out_path);
  ASSERT_EQ(result.size(), 400u);
  EXPECT_EQ(std::memcmp(result.data(), ref.run(input).data(), 400), 0);
  larodDestroyJobRequest(&req);
  larodDestroyTensors(c, &in, 1, nullptr);
  larodDestroyTensors(c, &out, 1, nullptr);
  ::close(in_fd);
  ::close(out_fd);
  ::munmap(mem, 16384);
  ::close(fd);
  larodDestroyModel(&m);
  larodDisconnect(&c, nullptr);
}

TEST_F(ApiTest, MismatchedTensorsAreClearErrors) {
  larodConnection* c = connect();
  larodModel* m = load_tiny(c);
  Err e;
  size_t n = 0;
  larodTensor** in = larodAllocModelInputs(c, m, 0, &n, nullptr, &e);
  larodTensor** out = larodAllocModelOutputs(c, m, 0, &n, nullptr, &e);
  ASSERT_NE(in, nullptr);
  ASSERT_NE(out, nullptr);

  // Wrong tensor counts are caught when the request is made.
  EXPECT_EQ(larodCreateJobRequest(m, in, 1, out, 0, nullptr, &e), nullptr);
  EXPECT_EQ(e.code(), LAROD_ERROR_TENSOR_MISMATCH);
  e.clear();

  larodJobRequest* req = larodCreateJobRequest(m, in, 1, out, 1, nullptr, &e);
  ASSERT_NE(req, nullptr);
  larodTensorDims dims = *larodGetTensorDims(in[0], &e);
  dims.dims[3] = 3;
  ASSERT_TRUE(larodSetTensorDims(in[0], &dims, &e));
  EXPECT_FALSE(larodRunJob(c, req, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_TENSOR_MISMATCH);
  EXPECT_NE(e.msg().find("dims [1, 5, 5, 3] differ from the model's [1, 5, 5, 2]"), std::string::npos)
      << e.msg();
  e.clear();
  dims.dims[3] = 2;
  larodSetTensorDims(in[0], &dims, &e);

  ASSERT_TRUE(larodSetTensorDataType(in[0], LAROD_TENSOR_DATA_TYPE_UINT8, &e));
  EXPECT_FALSE(larodRunJob(c, req, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_TENSOR_MISMATCH);
  EXPECT_NE(e.msg().find("data type uint8 differs from the model's float32"), std::string::npos) << e.msg();
  e.clear();
  larodSetTensorDataType(in[0], LAROD_TENSOR_DATA_TYPE_FLOAT32, &e);

  ASSERT_TRUE(larodSetTensorLayout(in[0], LAROD_TENSOR_LAYOUT_NCHW, &e));
  EXPECT_FALSE(larodRunJob(c, req, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_TENSOR_MISMATCH);
  e.clear();
  larodSetTensorLayout(in[0], LAROD_TENSOR_LAYOUT_NHWC, &e);

  // An offset that leaves too few bytes.
  ASSERT_TRUE(larodSetTensorFdOffset(in[0], 100, &e));
  EXPECT_FALSE(larodRunJob(c, req, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  EXPECT_NE(e.msg().find("needs 200 bytes at offset 100"), std::string::npos) << e.msg();
  e.clear();
  larodSetTensorFdOffset(in[0], 0, &e);

  // A tensor without memory.
  larodTensor** blank = larodCreateTensors(1, &e);
  ASSERT_NE(blank, nullptr);
  ASSERT_TRUE(larodSetJobRequestOutputs(req, blank, 1, &e));
  EXPECT_FALSE(larodRunJob(c, req, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  EXPECT_NE(e.msg().find("no file descriptor"), std::string::npos) << e.msg();
  e.clear();

  // A pipe is not tensor memory.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_TRUE(larodSetTensorFd(blank[0], p[0], &e));
  EXPECT_FALSE(larodRunJob(c, req, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  e.clear();
  ::close(p[0]);
  ::close(p[1]);

  // Invalid arguments are EINVAL and never crash.
  EXPECT_FALSE(larodSetTensorDataType(in[0], LAROD_TENSOR_DATA_TYPE_MAX, &e));
  EXPECT_EQ(e.code(), EINVAL);
  e.clear();
  EXPECT_FALSE(larodSetJobRequestPriority(req, 101, &e));
  e.clear();
  EXPECT_FALSE(larodRunJob(nullptr, req, &e));
  e.clear();
  EXPECT_FALSE(larodRunJob(c, nullptr, &e));
  e.clear();
  EXPECT_EQ(larodGetTensorDims(nullptr, &e), nullptr);
  e.clear();
  larodTensorDims big{};
  big.len = LAROD_TENSOR_MAX_LEN + 1;
  EXPECT_FALSE(larodSetTensorDims(in[0], &big, &e));
  e.clear();
  // An existing error is never overwritten.
  EXPECT_FALSE(larodSetTensorFdOffset(in[0], -1, &e));
  std::string first = e.msg();
  EXPECT_FALSE(larodSetTensorFd(in[0], -5, &e));
  EXPECT_EQ(e.msg(), first);
  e.clear();
  larodError* none = nullptr;
  larodClearError(&none);  // harmless
  larodClearError(nullptr);

  // Correct again: runs.
  ASSERT_TRUE(larodSetJobRequestOutputs(req, out, 1, &e));
  EXPECT_TRUE(larodRunJob(c, req, &e)) << e.msg();
  larodDestroyJobRequest(&req);
  larodDestroyTensors(c, &blank, 1, nullptr);
  larodDestroyTensors(c, &in, 1, nullptr);
  larodDestroyTensors(c, &out, 1, nullptr);
  larodDestroyModel(&m);
  larodDisconnect(&c, nullptr);
}

TEST_F(ApiTest, Maps) {
  Err e;
  larodMap* map = larodCreateMap(&e);
  ASSERT_NE(map, nullptr);
  ASSERT_TRUE(larodMapSetStr(map, "image.input.format", "nv12", &e));
  ASSERT_TRUE(larodMapSetInt(map, "answer", 42, &e));
  ASSERT_TRUE(larodMapSetIntArr2(map, "image.input.size", 1920, 1080, &e));
  ASSERT_TRUE(larodMapSetIntArr4(map, "image.input.crop", 1, 2, 3, 4, &e));
  EXPECT_STREQ(larodMapGetStr(map, "image.input.format", &e), "nv12");
  int64_t v = 0;
  ASSERT_TRUE(larodMapGetInt(map, "answer", &v, &e));
  EXPECT_EQ(v, 42);
  const int64_t* a2 = larodMapGetIntArr2(map, "image.input.size", &e);
  ASSERT_NE(a2, nullptr);
  EXPECT_EQ(a2[0], 1920);
  EXPECT_EQ(a2[1], 1080);
  const int64_t* a4 = larodMapGetIntArr4(map, "image.input.crop", &e);
  ASSERT_NE(a4, nullptr);
  EXPECT_EQ(a4[3], 4);
  // Overwriting changes the value (and may change the type).
  ASSERT_TRUE(larodMapSetInt(map, "image.input.format", 7, &e));
  EXPECT_EQ(larodMapGetStr(map, "image.input.format", &e), nullptr);
  EXPECT_EQ(e.code(), EINVAL);
  EXPECT_NE(e.msg().find("holds an int, not a string"), std::string::npos) << e.msg();
  e.clear();
  EXPECT_FALSE(larodMapGetInt(map, "missing", &v, &e));
  EXPECT_NE(e.msg().find("no key 'missing'"), std::string::npos);
  e.clear();
  EXPECT_FALSE(larodMapSetStr(map, nullptr, "x", &e));
  e.clear();
  EXPECT_FALSE(larodMapSetStr(map, "k", nullptr, &e));
  e.clear();
  larodDestroyMap(&map);
  EXPECT_EQ(map, nullptr);
  larodDestroyMap(&map);
}

TEST_F(ApiTest, PrivateModelsAreInvisibleToOtherSessions) {
  larodConnection* a = connect();
  larodConnection* b = connect();
  larodModel* priv = load_tiny(a, LAROD_ACCESS_PRIVATE, "private-one");
  larodModel* pub = load_tiny(a, LAROD_ACCESS_PUBLIC, "public-one");
  ASSERT_NE(priv, nullptr);
  ASSERT_NE(pub, nullptr);
  Err e;
  size_t n = 0;
  larodModel** seen = larodGetModels(b, &n, &e);
  ASSERT_NE(seen, nullptr) << e.msg();
  ASSERT_EQ(n, 1u);
  EXPECT_STREQ(larodGetModelName(seen[0], &e), "public-one");
  larodDestroyModels(&seen, n);
  seen = larodGetModels(a, &n, &e);
  EXPECT_EQ(n, 2u);
  larodDestroyModels(&seen, n);

  EXPECT_EQ(larodGetModel(b, larodGetModelId(priv, nullptr), &e), nullptr);
  EXPECT_EQ(e.code(), LAROD_ERROR_MODEL_NOT_FOUND);
  e.clear();
  EXPECT_FALSE(larodDeleteModel(b, priv, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_MODEL_NOT_FOUND);
  e.clear();

  // b uses a's public model with its own tensors.
  larodModel* pub_b = larodGetModel(b, larodGetModelId(pub, nullptr), &e);
  ASSERT_NE(pub_b, nullptr) << e.msg();
  larodTensor** in = larodAllocModelInputs(b, pub_b, 0, &n, nullptr, &e);
  larodTensor** out = larodAllocModelOutputs(b, pub_b, 0, &n, nullptr, &e);
  larodJobRequest* req = larodCreateJobRequest(pub_b, in, 1, out, 1, nullptr, &e);
  ASSERT_NE(req, nullptr) << e.msg();
  {
    Mapped mi(in[0]), mo(out[0]);
    std::vector<float> input = random_input(3);
    std::memcpy(mi.data(), input.data(), 200);
    ASSERT_TRUE(larodRunJob(b, req, &e)) << e.msg();
    Reference ref;
    EXPECT_EQ(std::memcmp(mo.data(), ref.run(input).data(), 400), 0);
  }
  // b cannot run jobs on a's private model, even by id.
  ASSERT_TRUE(larodSetJobRequestModel(req, priv, &e));
  EXPECT_FALSE(larodRunJob(b, req, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_MODEL_NOT_FOUND);
  e.clear();

  // When a leaves, its models go with it.
  larodDisconnect(&a, nullptr);
  EXPECT_TRUE(eventually([&] {
    larodModel* still_there = larodGetModel(b, larodGetModelId(pub, nullptr), nullptr);
    const bool gone = still_there == nullptr;
    larodDestroyModel(&still_there);  // sets its argument to null: test first
    return gone;
  }));
  ASSERT_TRUE(larodSetJobRequestModel(req, pub_b, &e));
  EXPECT_FALSE(larodRunJob(b, req, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_MODEL_NOT_FOUND);
  e.clear();
  larodDestroyJobRequest(&req);
  larodDestroyTensors(b, &in, 1, nullptr);
  larodDestroyTensors(b, &out, 1, nullptr);
  larodDestroyModel(&pub_b);
  larodDestroyModel(&priv);
  larodDestroyModel(&pub);
  larodDisconnect(&b, nullptr);
}

TEST_F(ApiTest, SameModelIsLoadedOnceAndShared) {
  larodConnection* a = connect();
  larodConnection* b = connect();
  larodModel* ma = load_tiny(a);
  larodModel* mb = load_tiny(b);
  ASSERT_NE(ma, nullptr);
  ASSERT_NE(mb, nullptr);
  EXPECT_NE(larodGetModelId(ma, nullptr), larodGetModelId(mb, nullptr));
  RawClient raw(socket_);
  ASSERT_TRUE(raw.hello());
  RawClient::Stats st;
  ASSERT_TRUE(raw.stats(st));
  EXPECT_EQ(st.models, 2u);
  EXPECT_EQ(st.executables, 1u);
  EXPECT_NE(daemon_.log().find("shared=yes"), std::string::npos);
  larodDestroyModel(&ma);
  larodDestroyModel(&mb);
  larodDisconnect(&a, nullptr);
  larodDisconnect(&b, nullptr);
}

TEST_F(ApiTest, DeletedModelRunsNoMoreJobs) {
  larodConnection* c = connect();
  larodModel* m = load_tiny(c);
  Err e;
  size_t n;
  larodTensor** in = larodAllocModelInputs(c, m, 0, &n, nullptr, &e);
  larodTensor** out = larodAllocModelOutputs(c, m, 0, &n, nullptr, &e);
  larodJobRequest* req = larodCreateJobRequest(m, in, 1, out, 1, nullptr, &e);
  ASSERT_TRUE(larodRunJob(c, req, &e)) << e.msg();
  ASSERT_TRUE(larodDeleteModel(c, m, &e));
  EXPECT_FALSE(larodRunJob(c, req, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_MODEL_NOT_FOUND);
  e.clear();
  EXPECT_FALSE(larodDeleteModel(c, m, &e));
  e.clear();
  larodDestroyJobRequest(&req);
  larodDestroyTensors(c, &in, 1, nullptr);
  larodDestroyTensors(c, &out, 1, nullptr);
  larodDestroyModel(&m);
  larodDisconnect(&c, nullptr);
}

struct AsyncLog {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> order;
  std::vector<std::string> errors;
};

struct AsyncJob {
  AsyncLog* log;
  int tag;
};

void on_job(void* user, larodError* error) {
  auto* job = static_cast<AsyncJob*>(user);
  std::lock_guard<std::mutex> lock(job->log->mu);
  job->log->order.push_back(job->tag);
  if (error) job->log->errors.push_back(error->msg);
  job->log->cv.notify_all();
}

TEST_F(ApiTest, AsyncJobsRunByPriority) {
  larodConnection* c = connect();
  larodModel* m = load_tiny(c);
  RawClient raw(socket_);
  ASSERT_TRUE(raw.hello());
  Err e;
  constexpr int kJobs = 20;
  std::vector<larodTensor**> ins(kJobs), outs(kJobs);
  std::vector<larodJobRequest*> reqs(kJobs);
  std::vector<std::unique_ptr<Mapped>> in_maps, out_maps;
  std::vector<std::vector<float>> inputs;
  size_t n;
  for (int i = 0; i < kJobs; ++i) {
    ins[i] = larodAllocModelInputs(c, m, 0, &n, nullptr, &e);
    outs[i] = larodAllocModelOutputs(c, m, 0, &n, nullptr, &e);
    ASSERT_NE(outs[i], nullptr) << e.msg();
    reqs[i] = larodCreateJobRequest(m, ins[i], 1, outs[i], 1, nullptr, &e);
    // Even jobs low priority, odd jobs high.
    ASSERT_TRUE(larodSetJobRequestPriority(reqs[i], i % 2 ? 90 : 10, &e));
    in_maps.push_back(std::make_unique<Mapped>(ins[i][0]));
    out_maps.push_back(std::make_unique<Mapped>(outs[i][0]));
    inputs.push_back(random_input(100 + static_cast<uint64_t>(i)));
    std::memcpy(in_maps.back()->data(), inputs.back().data(), 200);
  }
  // Hold the device so every job is queued before any runs.
  ASSERT_EQ(raw.device_hook(Msg::kTestPauseDevice), 0);
  AsyncLog log;
  std::vector<AsyncJob> jobs(kJobs);
  for (int i = 0; i < kJobs; ++i) {
    jobs[i] = {&log, i};
    ASSERT_TRUE(larodRunJobAsync(c, reqs[i], on_job, &jobs[i], &e)) << e.msg();
  }
  // The request is copied at submission: changing it now has no effect.
  larodSetJobRequestPriority(reqs[0], 100, &e);
  uint64_t sessions;
  ASSERT_TRUE(larodGetNumSessions(c, &sessions, &e));  // a round trip: all jobs are queued by now
  RawClient::Stats st;
  ASSERT_TRUE(raw.stats(st));
  EXPECT_EQ(st.queued, static_cast<uint64_t>(kJobs));
  ASSERT_EQ(raw.device_hook(Msg::kTestResumeDevice), 0);
  {
    std::unique_lock<std::mutex> lock(log.mu);
    ASSERT_TRUE(log.cv.wait_for(lock, std::chrono::seconds(30), [&] { return log.order.size() == kJobs; }));
  }
  EXPECT_TRUE(log.errors.empty());
  // All high-priority jobs first, each class in submission order.
  for (int i = 0; i < kJobs; ++i) {
    const int expected = i < kJobs / 2 ? 2 * i + 1 : 2 * (i - kJobs / 2);
    EXPECT_EQ(log.order[static_cast<size_t>(i)], expected) << "position " << i;
  }
  Reference ref;
  for (int i = 0; i < kJobs; ++i) {
    EXPECT_EQ(std::memcmp(out_maps[i]->data(), ref.run(inputs[i]).data(), 400), 0) << "job " << i;
  }
  in_maps.clear();
  out_maps.clear();
  for (int i = 0; i < kJobs; ++i) {
    larodDestroyJobRequest(&reqs[i]);
    larodDestroyTensors(c, &ins[i], 1, nullptr);
    larodDestroyTensors(c, &outs[i], 1, nullptr);
  }
  larodDestroyModel(&m);
  larodDisconnect(&c, nullptr);
}

struct LoadResult {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  larodModel* model = nullptr;
  std::string error;
};

void on_load(larodModel* model, void* user, larodError* error) {
  auto* r = static_cast<LoadResult*>(user);
  std::lock_guard<std::mutex> lock(r->mu);
  r->model = model;
  if (error) r->error = error->msg;
  r->done = true;
  r->cv.notify_all();
}

TEST_F(ApiTest, LoadModelAsync) {
  larodConnection* c = connect();
  Err e;
  const larodDevice* dev = larodGetDevice(c, "cpu-tflite", 0, &e);
  int fd = ::open(model_path_.c_str(), O_RDONLY | O_CLOEXEC);
  LoadResult ok;
  ASSERT_TRUE(larodLoadModelAsync(c, fd, dev, LAROD_ACCESS_PRIVATE, "async", nullptr, on_load, &ok, &e))
      << e.msg();
  ::close(fd);  // the request carries its own copy of the fd
  {
    std::unique_lock<std::mutex> lock(ok.mu);
    ASSERT_TRUE(ok.cv.wait_for(lock, std::chrono::seconds(30), [&] { return ok.done; }));
  }
  ASSERT_NE(ok.model, nullptr) << ok.error;
  EXPECT_STREQ(larodGetModelName(ok.model, nullptr), "async");
  larodDestroyModel(&ok.model);

  std::string bad = dir_.path() + "/bad.tflite";
  write_file(bad, {'n', 'o', 'p', 'e', 0, 0, 0, 0, 0, 0, 0, 0});
  fd = ::open(bad.c_str(), O_RDONLY | O_CLOEXEC);
  LoadResult fail;
  ASSERT_TRUE(larodLoadModelAsync(c, fd, dev, LAROD_ACCESS_PRIVATE, "bad", nullptr, on_load, &fail, &e));
  ::close(fd);
  {
    std::unique_lock<std::mutex> lock(fail.mu);
    ASSERT_TRUE(fail.cv.wait_for(lock, std::chrono::seconds(30), [&] { return fail.done; }));
  }
  EXPECT_EQ(fail.model, nullptr);
  EXPECT_NE(fail.error.find("not a TFLite model"), std::string::npos) << fail.error;
  EXPECT_FALSE(larodLoadModelAsync(c, -1, dev, LAROD_ACCESS_INVALID, "x", nullptr, on_load, &fail, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_INVALID_ACCESS);
  larodDisconnect(&c, nullptr);
}

// cpu-proc ------------------------------------------------------------------

std::vector<uint8_t> test_nv12(int w, int h) {
  std::vector<uint8_t> img(static_cast<size_t>(w) * h * 3 / 2);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      img[static_cast<size_t>(y * w + x)] = static_cast<uint8_t>((x * 7 + y * 3) & 255);
  for (size_t i = static_cast<size_t>(w) * h; i < img.size(); ++i)
    img[i] = static_cast<uint8_t>((i * 13) & 255);
  return img;
}

// Runs a one-input one-output cpu-proc job; returns the output bytes.
std::vector<uint8_t> run_proc(larodConnection* c, larodModel* m, const std::vector<uint8_t>& input,
                              larodMap* params, Err& e, bool* ok) {
  size_t n;
  larodTensor** in = larodAllocModelInputs(c, m, 0, &n, nullptr, &e);
  larodTensor** out = larodAllocModelOutputs(c, m, 0, &n, nullptr, &e);
  std::vector<uint8_t> result;
  *ok = false;
  if (in && out) {
    size_t in_bytes = 0, out_bytes = 0;
    larodGetTensorByteSize(in[0], &in_bytes, nullptr);
    larodGetTensorByteSize(out[0], &out_bytes, nullptr);
    Mapped mi(in[0]), mo(out[0]);
    std::memcpy(mi.data(), input.data(), std::min(in_bytes, input.size()));
    larodJobRequest* req = larodCreateJobRequest(m, in, 1, out, 1, params, &e);
    *ok = req && larodRunJob(c, req, &e);
    if (*ok) result.assign(mo.data(), mo.data() + out_bytes);
    larodDestroyJobRequest(&req);
  }
  larodDestroyTensors(c, &in, 1, nullptr);
  larodDestroyTensors(c, &out, 1, nullptr);
  return result;
}

TEST_F(ApiTest, CpuProcMatchesLibyuv) {
  larodConnection* c = connect();
  Err e;
  const int W = 64, H = 48;
  std::vector<uint8_t> nv12 = test_nv12(W, H);
  const uint8_t* y = nv12.data();
  const uint8_t* uv = nv12.data() + W * H;

  // nv12 -> rgb-interleaved, same size: exactly libyuv's conversion.
  larodModel* m = load_proc(c, {{"image.input.size", {W, H}}},
                            {{"image.input.format", "nv12"}, {"image.output.format", "rgb-interleaved"}}, e);
  ASSERT_NE(m, nullptr) << e.msg();
  size_t n;
  larodTensor** t = larodCreateModelInputs(m, &n, &e);
  EXPECT_EQ(larodGetTensorLayout(t[0], nullptr), LAROD_TENSOR_LAYOUT_420SP);
  const larodTensorPitches* p = larodGetTensorPitches(t[0], nullptr);
  ASSERT_EQ(p->len, 3u);
  EXPECT_EQ(p->pitches[0], static_cast<size_t>(W * H * 3 / 2));
  EXPECT_EQ(p->pitches[1], static_cast<size_t>(W * H));
  EXPECT_EQ(p->pitches[2], static_cast<size_t>(W));
  larodDestroyTensors(c, &t, n, nullptr);
  bool ok;
  std::vector<uint8_t> got = run_proc(c, m, nv12, nullptr, e, &ok);
  ASSERT_TRUE(ok) << e.msg();
  std::vector<uint8_t> want(static_cast<size_t>(W) * H * 3);
  libyuv::NV12ToRAW(y, W, uv, W, want.data(), W * 3, W, H);
  EXPECT_EQ(got, want);
  larodDestroyModel(&m);

  // nv12 -> rgb-planar with a job crop and scaling: scale as NV12, convert, split.
  m = load_proc(c, {{"image.input.size", {W, H}}, {"image.output.size", {16, 16}}},
                {{"image.input.format", "nv12"}, {"image.output.format", "rgb-planar"}}, e);
  ASSERT_NE(m, nullptr) << e.msg();
  larodMap* crop = larodCreateMap(nullptr);
  larodMapSetIntArr4(crop, "image.input.crop", 8, 4, 32, 32, nullptr);
  got = run_proc(c, m, nv12, crop, e, &ok);
  ASSERT_TRUE(ok) << e.msg();
  std::vector<uint8_t> small(16 * 16 * 3 / 2), rgb(16 * 16 * 3);
  libyuv::NV12Scale(y + 4 * W + 8, W, uv + 2 * W + 8, W, 32, 32, small.data(), 16, small.data() + 256, 16, 16,
                    16, libyuv::kFilterBilinear);
  libyuv::NV12ToRAW(small.data(), 16, small.data() + 256, 16, rgb.data(), 48, 16, 16);
  ASSERT_EQ(got.size(), 16u * 16 * 3);
  for (int i = 0; i < 256; ++i) {
    ASSERT_EQ(got[static_cast<size_t>(i)], rgb[static_cast<size_t>(3 * i)]) << i;
    ASSERT_EQ(got[static_cast<size_t>(256 + i)], rgb[static_cast<size_t>(3 * i + 1)]) << i;
    ASSERT_EQ(got[static_cast<size_t>(512 + i)], rgb[static_cast<size_t>(3 * i + 2)]) << i;
  }
  // A crop outside the image is a job error naming the crop.
  larodMapSetIntArr4(crop, "image.input.crop", 40, 0, 32, 32, nullptr);
  run_proc(c, m, nv12, crop, e, &ok);
  EXPECT_FALSE(ok);
  EXPECT_EQ(e.code(), LAROD_ERROR_JOB);
  EXPECT_NE(e.msg().find("image.input.crop 40,0,32,32 is not inside the 64x48 input"), std::string::npos)
      << e.msg();
  e.clear();
  larodDestroyMap(&crop);
  larodDestroyModel(&m);

  // rgb-planar -> rgb-interleaved (no scaling), with a padded output row pitch.
  m = load_proc(c, {{"image.input.size", {4, 2}}, {"image.output.row-pitch", {16}}},
                {{"image.input.format", "rgb-planar"}, {"image.output.format", "rgb-interleaved"}}, e);
  ASSERT_NE(m, nullptr) << e.msg();
  std::vector<uint8_t> planar(24);
  for (size_t i = 0; i < 24; ++i) planar[i] = static_cast<uint8_t>(i);
  got = run_proc(c, m, planar, nullptr, e, &ok);
  ASSERT_TRUE(ok) << e.msg();
  ASSERT_EQ(got.size(), 32u);
  EXPECT_EQ(got[0], 0);   // R of pixel 0
  EXPECT_EQ(got[1], 8);   // G of pixel 0
  EXPECT_EQ(got[2], 16);  // B of pixel 0
  EXPECT_EQ(got[16], 4);  // R of row 1, pixel 0 (after the padded pitch)
  larodDestroyModel(&m);
  larodDisconnect(&c, nullptr);
}

TEST_F(ApiTest, CpuProcRejectsBadConfigurationsAtLoad) {
  larodConnection* c = connect();
  struct Case {
    std::vector<std::pair<std::string, std::vector<int64_t>>> ints;
    std::vector<std::pair<std::string, std::string>> strs;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{{"image.input.size", {64, 48}}},
       {{"image.input.format", "rgb-interleaved"}, {"image.output.format", "nv12"}},
       "cannot convert rgb-interleaved to nv12"},
      {{{"image.input.size", {64, 48}}},
       {{"image.input.format", "yuyv"}, {"image.output.format", "nv12"}},
       "image.input.format 'yuyv' is not supported"},
      {{{"image.input.size", {63, 48}}},
       {{"image.input.format", "nv12"}, {"image.output.format", "nv12"}},
       "must be even"},
      {{},
       {{"image.input.format", "nv12"}, {"image.output.format", "nv12"}},
       "missing parameter image.input.size"},
      {{{"image.input.size", {64, 48}}},
       {{"image.output.format", "nv12"}},
       "missing parameter image.input.format"},
      {{{"image.input.size", {64, 48}}, {"image.output.size", {32, 24}}},
       {{"image.input.format", "rgb-planar"}, {"image.output.format", "rgb-interleaved"}},
       "cannot scale"},
      {{{"image.input.size", {64, 48}}, {"image.input.row-pitch", {10}}},
       {{"image.input.format", "nv12"}, {"image.output.format", "nv12"}},
       "smaller than a row"},
      {{{"image.input.size", {64, 48}}},
       {{"image.input.format", "nv12"}, {"image.output.format", "nv12"}, {"foo", "x"}},
       "unknown parameter 'foo'"},
      {{{"image.input.size", {64}}},
       {{"image.input.format", "nv12"}, {"image.output.format", "nv12"}},
       "image.input.size must be an int pair"},
  };
  for (const Case& k : cases) {
    Err e;
    larodModel* m = load_proc(c, k.ints, k.strs, e);
    EXPECT_EQ(m, nullptr) << k.expect;
    EXPECT_EQ(e.code(), LAROD_ERROR_LOAD_MODEL) << k.expect;
    EXPECT_NE(e.msg().find(k.expect), std::string::npos) << "got: " << e.msg();
    larodDestroyModel(&m);
  }
  // A file for cpu-proc, and no file for cpu-tflite, are errors too.
  Err e;
  int fd = ::open(model_path_.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_EQ(load_proc(c, {{"image.input.size", {64, 48}}},
                      {{"image.input.format", "nv12"}, {"image.output.format", "nv12"}}, e, fd),
            nullptr);
  EXPECT_NE(e.msg().find("fd -1"), std::string::npos) << e.msg();
  ::close(fd);
  e.clear();
  const larodDevice* dev = larodGetDevice(c, "cpu-tflite", 0, nullptr);
  EXPECT_EQ(larodLoadModel(c, -1, dev, LAROD_ACCESS_PRIVATE, "x", nullptr, &e), nullptr);
  EXPECT_NE(e.msg().find("needs a .tflite file"), std::string::npos) << e.msg();
  larodDisconnect(&c, nullptr);
}

TEST_F(ApiTest, DisconnectFreesModelsAndTensors) {
  larodConnection* c = connect();
  larodModel* m = load_tiny(c);
  size_t n;
  larodTensor** in = larodAllocModelInputs(c, m, 0, &n, nullptr, nullptr);
  larodTensor** out = larodAllocModelOutputs(c, m, 0, &n, nullptr, nullptr);
  ASSERT_NE(in, nullptr);
  ASSERT_NE(out, nullptr);
  RawClient raw(socket_);
  ASSERT_TRUE(raw.hello());
  RawClient::Stats st;
  ASSERT_TRUE(raw.stats(st));
  EXPECT_EQ(st.buffers, 2u);
  EXPECT_EQ(st.models, 1u);
  larodDisconnect(&c, nullptr);  // without destroying anything first
  EXPECT_TRUE(
      eventually([&] { return raw.stats(st) && st.buffers == 0 && st.models == 0 && st.sessions == 1; }));
  EXPECT_EQ(st.executables, 0u);
  // The handles still free cleanly afterwards.
  larodDestroyTensors(nullptr, &in, 1, nullptr);
  larodDestroyTensors(nullptr, &out, 1, nullptr);
  larodDestroyModel(&m);
}

}  // namespace
}  // namespace osprey::service::testing
