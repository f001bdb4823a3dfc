// The Larod 3.6 additions against a private ospreyd: a camera-style frame
// described with larodBuildTensorDims/Pitches and converted with
// larodConvertVmemFdToDmabuf runs through cpu-proc zero copy, the builders
// describe exactly what cpu-proc declares, and larodExportModel validates on
// the device and writes the model.
#include <libyuv.h>
#include <sys/mman.h>

#include <cerrno>
#include <csignal>

#include "service_fixture.h"

namespace osprey::service::testing {
namespace {

class Api36Test : public ServiceTest {};

larodModel* load_proc(larodConnection* c, const char* in_fmt, const char* out_fmt, int w, int h, int in_pitch,
                      int out_w, int out_h, Err& e) {
  larodMap* map = larodCreateMap(nullptr);
  larodMapSetStr(map, "image.input.format", in_fmt, nullptr);
  larodMapSetStr(map, "image.output.format", out_fmt, nullptr);
  larodMapSetIntArr2(map, "image.input.size", w, h, nullptr);
  larodMapSetIntArr2(map, "image.output.size", out_w, out_h, nullptr);
  larodMapSetInt(map, "image.input.row-pitch", in_pitch, nullptr);
  const larodDevice* dev = larodGetDevice(c, "cpu-proc", 0, nullptr);
  larodModel* m = larodLoadModel(c, -1, dev, LAROD_ACCESS_PRIVATE, "pp", map, &e);
  larodDestroyMap(&map);
  return m;
}

// The description the builders give must equal what the device declares.
void expect_same_description(const larodTensor* built, const larodTensor* declared) {
  const larodTensorDims* a = larodGetTensorDims(built, nullptr);
  const larodTensorDims* b = larodGetTensorDims(declared, nullptr);
  ASSERT_EQ(a->len, b->len);
  for (size_t i = 0; i < a->len; ++i) EXPECT_EQ(a->dims[i], b->dims[i]) << "dim " << i;
  const larodTensorPitches* p = larodGetTensorPitches(built, nullptr);
  const larodTensorPitches* q = larodGetTensorPitches(declared, nullptr);
  ASSERT_EQ(p->len, q->len);
  for (size_t i = 0; i < p->len; ++i) EXPECT_EQ(p->pitches[i], q->pitches[i]) << "pitch " << i;
}

larodTensor** build_tensor(larodTensorLayout layout, size_t w, size_t h, size_t pitch) {
  larodTensor** t = larodCreateTensors(1, nullptr);
  Err e;
  EXPECT_TRUE(larodSetTensorDataType(t[0], LAROD_TENSOR_DATA_TYPE_UINT8, &e)) << e.msg();
  EXPECT_TRUE(larodSetTensorLayout(t[0], layout, &e)) << e.msg();
  EXPECT_TRUE(larodBuildTensorDims(t[0], layout, w, h, 3, &e)) << e.msg();
  EXPECT_TRUE(larodBuildTensorPitches(t[0], layout, pitch, h, 3, &e)) << e.msg();
  return t;
}

TEST_F(Api36Test, BuildersDescribeWhatCpuProcDeclares) {
  larodConnection* c = connect();
  Err e;
  struct Case {
    const char* in;
    const char* out;
    larodTensorLayout in_layout, out_layout;
    int in_pitch;
    size_t out_pitch;
  };
  const Case cases[] = {
      {"nv12", "rgb-interleaved", LAROD_TENSOR_LAYOUT_420SP, LAROD_TENSOR_LAYOUT_NHWC, 80, 32 * 3},
      {"rgb-interleaved", "rgb-planar", LAROD_TENSOR_LAYOUT_NHWC, LAROD_TENSOR_LAYOUT_NCHW, 64 * 3 + 16, 32},
  };
  for (const Case& k : cases) {
    larodModel* m = load_proc(c, k.in, k.out, 64, 48, k.in_pitch, 32, 32, e);
    ASSERT_NE(m, nullptr) << e.msg();
    size_t n = 0;
    larodTensor** in = larodCreateModelInputs(m, &n, &e);
    larodTensor** out = larodCreateModelOutputs(m, &n, &e);
    ASSERT_TRUE(in && out) << e.msg();
    larodTensor** bin = build_tensor(k.in_layout, 64, 48, static_cast<size_t>(k.in_pitch));
    larodTensor** bout = build_tensor(k.out_layout, 32, 32, k.out_pitch);
    SCOPED_TRACE(std::string(k.in) + " -> " + k.out);
    expect_same_description(bin[0], in[0]);
    expect_same_description(bout[0], out[0]);
    for (larodTensor*** t : {&in, &out, &bin, &bout}) larodDestroyTensors(c, t, 1, nullptr);
    ASSERT_TRUE(larodDeleteModel(c, m, &e)) << e.msg();
    larodDestroyModel(&m);
  }
  larodDisconnect(&c, nullptr);
}

TEST_F(Api36Test, ConvertedFrameRunsThroughCpuProcZeroCopy) {
  larodConnection* c = connect();
  Err e;
  const int W = 64, H = 48, pitch = 64;
  larodModel* m = load_proc(c, "nv12", "rgb-interleaved", W, H, pitch, W, H, e);
  ASSERT_NE(m, nullptr) << e.msg();

  // The "VDO buffer": a memfd the producer keeps writing frames into.
  const size_t capacity = static_cast<size_t>(pitch) * H * 3 / 2;
  const int frame_fd = ::memfd_create("vdo-frame", MFD_CLOEXEC);
  ASSERT_EQ(::ftruncate(frame_fd, static_cast<off_t>(capacity)), 0);
  auto* frame =
      static_cast<uint8_t*>(::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, frame_fd, 0));
  ASSERT_NE(frame, MAP_FAILED);

  // As the public examples do: convert, dup, describe, track once.
  const int dmabuf = larodConvertVmemFdToDmabuf(frame_fd, 0, &e);
  ASSERT_GE(dmabuf, 0) << e.msg();
  larodTensor** in = build_tensor(LAROD_TENSOR_LAYOUT_420SP, W, H, pitch);
  ASSERT_TRUE(larodSetTensorFdProps(in[0], LAROD_FD_TYPE_DMA, &e)) << e.msg();
  ASSERT_TRUE(larodSetTensorFd(in[0], dmabuf, &e)) << e.msg();
  ASSERT_TRUE(larodSetTensorFdOffset(in[0], 0, &e)) << e.msg();
  ASSERT_TRUE(larodSetTensorFdSize(in[0], capacity, &e)) << e.msg();
  ASSERT_TRUE(larodTrackTensor(c, in[0], &e)) << e.msg();
  size_t n = 0;
  larodTensor** out = larodAllocModelOutputs(c, m, 0, &n, nullptr, &e);
  ASSERT_NE(out, nullptr) << e.msg();
  larodJobRequest* req = larodCreateJobRequest(m, in, 1, out, 1, nullptr, &e);
  ASSERT_NE(req, nullptr) << e.msg();

  for (int k = 0; k < 2; ++k) {  // two frames: the tracked fd sees each new one
    for (size_t i = 0; i < capacity; ++i) frame[i] = static_cast<uint8_t>((i * (7 + k * 6) + k) & 255);
    ASSERT_TRUE(larodRunJob(c, req, &e)) << e.msg();
    std::vector<uint8_t> want(static_cast<size_t>(W) * H * 3);
    libyuv::NV12ToRAW(frame, pitch, frame + pitch * H, pitch, want.data(), W * 3, W, H);
    Mapped mo(out[0]);
    ASSERT_NE(mo.data(), nullptr);
    EXPECT_EQ(std::vector<uint8_t>(mo.data(), mo.data() + want.size()), want) << "frame " << k;
  }
  larodDestroyJobRequest(&req);
  larodDestroyTensors(c, &in, 1, nullptr);
  larodDestroyTensors(c, &out, 1, nullptr);
  larodDestroyModel(&m);
  ::close(dmabuf);
  ::munmap(frame, capacity);
  ::close(frame_fd);
  larodDisconnect(&c, nullptr);
}

// Export ------------------------------------------------------------------

TEST_F(Api36Test, ExportWritesTheModelAtTheOutputPosition) {
  larodConnection* c = connect();
  Err e;
  const larodDevice* dev = larodGetDevice(c, "cpu-tflite", 0, &e);
  ASSERT_NE(dev, nullptr) << e.msg();
  const int model_fd = ::open(model_path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(::lseek(model_fd, 17, SEEK_SET), 0);  // the model is read from its start whatever its position
  const std::string out_path = dir_.path() + "/exported.bin";
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_EQ(::write(out_fd, "HEAD", 4), 4);
  ASSERT_TRUE(larodExportModel(c, model_fd, out_fd, dev, nullptr, &e)) << e.msg();
  ::close(out_fd);
  EXPECT_EQ(read_file(out_path), "HEAD" + read_file(model_path_));
  // Nothing stays loaded.
  size_t models = 99;
  larodModel** list = larodGetModels(c, &models, &e);
  ASSERT_NE(list, nullptr) << e.msg();
  EXPECT_EQ(models, 0u);
  larodDestroyModels(&list, models);

  // Into a pipe that someone reads.
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  const std::string want = read_file(model_path_);
  std::string got;
  std::thread reader([&] {
    char buf[4096];
    ssize_t r;
    while ((r = ::read(p[0], buf, sizeof(buf))) > 0) got.append(buf, static_cast<size_t>(r));
  });
  EXPECT_TRUE(larodExportModel(c, model_fd, p[1], dev, nullptr, &e)) << e.msg();
  ::close(p[1]);
  reader.join();
  ::close(p[0]);
  EXPECT_EQ(got, want);
  ::close(model_fd);
  larodDisconnect(&c, nullptr);
}

TEST_F(Api36Test, ExportFailuresAreTheDocumentedErrors) {
  larodConnection* c = connect();
  Err e;
  const larodDevice* tflite = larodGetDevice(c, "cpu-tflite", 0, &e);
  const larodDevice* proc = larodGetDevice(c, "cpu-proc", 0, &e);
  ASSERT_TRUE(tflite && proc) << e.msg();
  const int model_fd = ::open(model_path_.c_str(), O_RDONLY | O_CLOEXEC);
  const std::string out_path = dir_.path() + "/out.bin";
  const int out_fd = ::open(out_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  // Not a model: the device refuses it as larodLoadModel would, nothing is written.
  const std::string junk = dir_.path() + "/junk.tflite";
  write_file(junk, std::vector<uint8_t>(64, 'x'));
  const int junk_fd = ::open(junk.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_FALSE(larodExportModel(c, junk_fd, out_fd, tflite, nullptr, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_LOAD_MODEL);
  EXPECT_NE(e.msg().find("not a TFLite model"), std::string::npos) << e.msg();
  e.clear();
  // A model file for cpu-proc, which takes none.
  EXPECT_FALSE(larodExportModel(c, model_fd, out_fd, proc, nullptr, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_LOAD_MODEL) << e.msg();
  e.clear();
  // Unknown model parameters are refused by the device.
  larodMap* params = larodCreateMap(nullptr);
  larodMapSetInt(params, "no.such.key", 1, nullptr);
  EXPECT_FALSE(larodExportModel(c, model_fd, out_fd, tflite, params, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_LOAD_MODEL) << e.msg();
  EXPECT_NE(e.msg().find("no.such.key"), std::string::npos) << e.msg();
  e.clear();
  larodDestroyMap(&params);
  struct stat st;
  ASSERT_EQ(::fstat(out_fd, &st), 0);
  EXPECT_EQ(st.st_size, 0);

  // Bad fds: not open, not a file, read-only output.
  EXPECT_FALSE(larodExportModel(c, -1, out_fd, tflite, nullptr, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  e.clear();
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  EXPECT_FALSE(larodExportModel(c, p[0], out_fd, tflite, nullptr, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  EXPECT_NE(e.msg().find("not a regular file"), std::string::npos) << e.msg();
  e.clear();
  EXPECT_FALSE(larodExportModel(c, model_fd, LAROD_INVALID_FD, tflite, nullptr, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  e.clear();
  const int ro = ::open(out_path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_FALSE(larodExportModel(c, model_fd, ro, tflite, nullptr, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  EXPECT_NE(e.msg().find("read-only"), std::string::npos) << e.msg();
  e.clear();
  ::close(ro);
  // A pipe nobody reads any more: an error, not a SIGPIPE death.
  ::close(p[0]);
  EXPECT_FALSE(larodExportModel(c, model_fd, p[1], tflite, nullptr, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  EXPECT_NE(e.msg().find(std::strerror(EPIPE)), std::string::npos) << e.msg();
  e.clear();
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);  // consumed, not left pending
  ::close(p[1]);
  EXPECT_FALSE(larodExportModel(c, model_fd, out_fd, nullptr, nullptr, &e));
  EXPECT_EQ(e.code(), EINVAL);
  e.clear();

  // The connection is still fine afterwards.
  uint64_t sessions = 0;
  EXPECT_TRUE(larodGetNumSessions(c, &sessions, &e)) << e.msg();
  for (int fd : {model_fd, out_fd, junk_fd}) ::close(fd);
  larodDisconnect(&c, nullptr);
}

}  // namespace
}  // namespace osprey::service::testing
