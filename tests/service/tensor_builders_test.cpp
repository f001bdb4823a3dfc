// The Larod 3.6 additions that need no daemon: larodBuildTensorDims,
// larodBuildTensorPitches and larodConvertVmemFdToDmabuf, good and bad input
// (every failure is the documented error code with a message, never a crash).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "larod.h"

namespace {

struct Err {
  larodError* e = nullptr;
  ~Err() { larodClearError(&e); }
  larodError** operator&() { return &e; }
  int code() const { return e ? static_cast<int>(e->code) : 0; }
  std::string msg() const { return e && e->msg ? e->msg : "(no error)"; }
  void clear() { larodClearError(&e); }
};

class Tensor {
 public:
  Tensor() { t_ = larodCreateTensors(1, nullptr); }
  ~Tensor() { larodDestroyTensors(nullptr, &t_, 1, nullptr); }
  larodTensor* get() const { return t_[0]; }

 private:
  larodTensor** t_ = nullptr;
};

std::vector<size_t> dims_of(const larodTensor* t) {
  const larodTensorDims* d = larodGetTensorDims(t, nullptr);
  return {d->dims, d->dims + d->len};
}

std::vector<size_t> pitches_of(const larodTensor* t) {
  const larodTensorPitches* p = larodGetTensorPitches(t, nullptr);
  return {p->pitches, p->pitches + p->len};
}

using V = std::vector<size_t>;

TEST(TensorBuilders, DimsOfEachImageLayout) {
  Tensor t;
  Err e;
  ASSERT_TRUE(larodBuildTensorDims(t.get(), LAROD_TENSOR_LAYOUT_NHWC, 640, 360, 3, &e)) << e.msg();
  EXPECT_EQ(dims_of(t.get()), (V{1, 360, 640, 3}));
  ASSERT_TRUE(larodBuildTensorDims(t.get(), LAROD_TENSOR_LAYOUT_NCHW, 640, 360, 3, &e)) << e.msg();
  EXPECT_EQ(dims_of(t.get()), (V{1, 3, 360, 640}));
  ASSERT_TRUE(larodBuildTensorDims(t.get(), LAROD_TENSOR_LAYOUT_420SP, 1920, 1080, 3, &e)) << e.msg();
  EXPECT_EQ(dims_of(t.get()), (V{3, 1080, 1920}));
  // Grayscale NHWC and a single planar channel are images too.
  ASSERT_TRUE(larodBuildTensorDims(t.get(), LAROD_TENSOR_LAYOUT_NHWC, 7, 5, 1, &e)) << e.msg();
  EXPECT_EQ(dims_of(t.get()), (V{1, 5, 7, 1}));
  // The layout itself is the application's to set (larodSetTensorLayout).
  EXPECT_EQ(larodGetTensorLayout(t.get(), nullptr), LAROD_TENSOR_LAYOUT_UNSPECIFIED);
}

TEST(TensorBuilders, PitchesOfEachImageLayout) {
  Tensor t;
  Err e;
  // uint8 RGB 640x360 in rows of 1920 bytes (the vdo-larod case), then padded rows.
  ASSERT_TRUE(larodSetTensorDataType(t.get(), LAROD_TENSOR_DATA_TYPE_UINT8, &e));
  ASSERT_TRUE(larodBuildTensorPitches(t.get(), LAROD_TENSOR_LAYOUT_NHWC, 1920, 360, 3, &e)) << e.msg();
  EXPECT_EQ(pitches_of(t.get()), (V{1920 * 360, 1920 * 360, 1920, 3}));
  ASSERT_TRUE(larodBuildTensorPitches(t.get(), LAROD_TENSOR_LAYOUT_NHWC, 2048, 360, 3, &e)) << e.msg();
  EXPECT_EQ(pitches_of(t.get()), (V{2048 * 360, 2048 * 360, 2048, 3}));
  // Planar: one plane of height rows per channel.
  ASSERT_TRUE(larodBuildTensorPitches(t.get(), LAROD_TENSOR_LAYOUT_NCHW, 640, 360, 3, &e)) << e.msg();
  EXPECT_EQ(pitches_of(t.get()), (V{3 * 360 * 640, 3 * 360 * 640, 360 * 640, 640}));
  // NV12: a Y plane, then UV at half height; pitches[0] is the whole image.
  ASSERT_TRUE(larodBuildTensorPitches(t.get(), LAROD_TENSOR_LAYOUT_420SP, 1920, 1080, 3, &e)) << e.msg();
  EXPECT_EQ(pitches_of(t.get()), (V{1920 * 1080 * 3 / 2, 1920 * 1080, 1920}));
  ASSERT_TRUE(larodBuildTensorPitches(t.get(), LAROD_TENSOR_LAYOUT_420SP, 64, 5, 3, &e)) << e.msg();
  EXPECT_EQ(pitches_of(t.get()), (V{64 * 5 + 64 * 3, 64 * 5, 64}));  // odd height: UV rows rounded up
  size_t bytes = 0;
  ASSERT_TRUE(larodGetTensorByteSize(t.get(), &bytes, &e));
  EXPECT_EQ(bytes, size_t{64 * 8});
  // Wider elements: float32 NHWC counts bytes per pixel.
  ASSERT_TRUE(larodSetTensorDataType(t.get(), LAROD_TENSOR_DATA_TYPE_FLOAT32, &e));
  ASSERT_TRUE(larodBuildTensorPitches(t.get(), LAROD_TENSOR_LAYOUT_NHWC, 1200, 2, 3, &e)) << e.msg();
  EXPECT_EQ(pitches_of(t.get()), (V{2400, 2400, 1200, 12}));
}

TEST(TensorBuilders, DimsAndPitchesTogetherGiveTheFrameSize) {
  Tensor t;
  Err e;
  ASSERT_TRUE(larodSetTensorDataType(t.get(), LAROD_TENSOR_DATA_TYPE_UINT8, &e));
  ASSERT_TRUE(larodBuildTensorDims(t.get(), LAROD_TENSOR_LAYOUT_NHWC, 300, 200, 3, &e));
  ASSERT_TRUE(larodBuildTensorPitches(t.get(), LAROD_TENSOR_LAYOUT_NHWC, 900, 200, 3, &e)) << e.msg();
  size_t bytes = 0;
  ASSERT_TRUE(larodGetTensorByteSize(t.get(), &bytes, &e));
  EXPECT_EQ(bytes, size_t{900 * 200});
  // A pitch shorter than the 300-pixel rows the dims describe is refused.
  EXPECT_FALSE(larodBuildTensorPitches(t.get(), LAROD_TENSOR_LAYOUT_NHWC, 899, 200, 3, &e));
  EXPECT_EQ(e.code(), EINVAL);
  EXPECT_NE(e.msg().find("shorter than a row"), std::string::npos) << e.msg();
  EXPECT_EQ(pitches_of(t.get())[2], size_t{900});  // a failed call changes nothing
}

TEST(TensorBuilders, BadArgumentsAreEinval) {
  Tensor t;
  Err e;
  struct Case {
    larodTensorLayout layout;
    size_t a, h, c;
    const char* says;
  };
  const Case bad[] = {
      {LAROD_TENSOR_LAYOUT_UNSPECIFIED, 8, 8, 3, "has no width"},
      {LAROD_TENSOR_LAYOUT_INVALID, 8, 8, 3, "has no width"},
      {LAROD_TENSOR_LAYOUT_MAX, 8, 8, 3, "has no width"},
      {static_cast<larodTensorLayout>(7), 8, 8, 3, "has no width"},  // C++ allows 0..7 here
      {LAROD_TENSOR_LAYOUT_NHWC, 0, 8, 3, "must be positive"},
      {LAROD_TENSOR_LAYOUT_NCHW, 8, 0, 3, "must be positive"},
      {LAROD_TENSOR_LAYOUT_NHWC, 8, 8, 0, "must be positive"},
      {LAROD_TENSOR_LAYOUT_420SP, 8, 8, 1, "3 channels"},
      {LAROD_TENSOR_LAYOUT_420SP, 8, 8, 4, "3 channels"},
  };
  for (const Case& c : bad) {
    EXPECT_FALSE(larodBuildTensorDims(t.get(), c.layout, c.a, c.h, c.c, &e));
    EXPECT_EQ(e.code(), EINVAL);
    EXPECT_NE(e.msg().find(c.says), std::string::npos) << e.msg();
    e.clear();
    EXPECT_FALSE(larodBuildTensorPitches(t.get(), c.layout, c.a, c.h, c.c, &e));
    EXPECT_EQ(e.code(), EINVAL);
    EXPECT_NE(e.msg().find(c.says), std::string::npos) << e.msg();
    e.clear();
  }
  EXPECT_EQ(dims_of(t.get()), V{});  // nothing was set
  EXPECT_EQ(pitches_of(t.get()), V{});
  EXPECT_FALSE(larodBuildTensorDims(nullptr, LAROD_TENSOR_LAYOUT_NHWC, 8, 8, 3, &e));
  EXPECT_EQ(e.code(), EINVAL);
  e.clear();
  EXPECT_FALSE(
      larodBuildTensorPitches(nullptr, LAROD_TENSOR_LAYOUT_NHWC, 24, 8, 3, nullptr));  // no error wanted
}

TEST(TensorBuilders, OverflowIsEinval) {
  Tensor t;
  Err e;
  const size_t huge = SIZE_MAX / 2 + 1;
  EXPECT_FALSE(larodBuildTensorDims(t.get(), LAROD_TENSOR_LAYOUT_NHWC, huge, 4, 3, &e));
  EXPECT_EQ(e.code(), EINVAL);
  EXPECT_NE(e.msg().find("does not fit"), std::string::npos) << e.msg();
  e.clear();
  ASSERT_TRUE(larodSetTensorDataType(t.get(), LAROD_TENSOR_DATA_TYPE_FLOAT64, &e));
  EXPECT_FALSE(larodBuildTensorDims(t.get(), LAROD_TENSOR_LAYOUT_NCHW, SIZE_MAX / 8, 2, 1, &e));
  EXPECT_EQ(e.code(), EINVAL);
  e.clear();
  EXPECT_FALSE(larodBuildTensorPitches(t.get(), LAROD_TENSOR_LAYOUT_NHWC, huge, 4, 3, &e));
  EXPECT_EQ(e.code(), EINVAL);
  e.clear();
  EXPECT_FALSE(larodBuildTensorPitches(t.get(), LAROD_TENSOR_LAYOUT_NCHW, SIZE_MAX / 4, 2, 3, &e));
  EXPECT_EQ(e.code(), EINVAL);
  e.clear();
  EXPECT_FALSE(larodBuildTensorPitches(t.get(), LAROD_TENSOR_LAYOUT_420SP, SIZE_MAX / 3 + 1, 2, 3, &e));
  EXPECT_EQ(e.code(), EINVAL);
  e.clear();
  EXPECT_FALSE(larodBuildTensorPitches(t.get(), LAROD_TENSOR_LAYOUT_NHWC, 64, 4, SIZE_MAX / 2, &e));
  EXPECT_EQ(e.code(), EINVAL);
  EXPECT_EQ(pitches_of(t.get()), V{});
}

int memfd_of(size_t size) {
  int fd = ::memfd_create("frame", MFD_CLOEXEC);
  if (fd >= 0 && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(ConvertVmemFd, ReturnsANewFdForTheSameMemory) {
  const int frame = memfd_of(4096);
  ASSERT_GE(frame, 0);
  Err e;
  const int dmabuf = larodConvertVmemFdToDmabuf(frame, 0, &e);
  ASSERT_GE(dmabuf, 0) << e.msg();
  EXPECT_NE(dmabuf, frame);
  // Zero copy: what the producer writes is what the new fd maps.
  auto* src = static_cast<uint8_t*>(::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, frame, 0));
  auto* dst = static_cast<uint8_t*>(::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, dmabuf, 0));
  ASSERT_NE(src, MAP_FAILED);
  ASSERT_NE(dst, MAP_FAILED);
  src[100] = 42;
  EXPECT_EQ(dst[100], 42);
  ::munmap(src, 4096);
  ::munmap(dst, 4096);
  EXPECT_NE(::fcntl(dmabuf, F_GETFD) & FD_CLOEXEC, 0);
  // The caller owns it: closing it leaves the source alone.
  EXPECT_EQ(::close(dmabuf), 0);
  EXPECT_GE(::fcntl(frame, F_GETFD), 0);
  ::close(frame);
}

TEST(ConvertVmemFd, BadInputIsTheDocumentedError) {
  Err e;
  EXPECT_EQ(larodConvertVmemFdToDmabuf(-1, 0, &e), LAROD_INVALID_FD);
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  e.clear();
  EXPECT_EQ(larodConvertVmemFdToDmabuf(LAROD_INVALID_FD, 0, &e), LAROD_INVALID_FD);
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  e.clear();
  // A closed fd.
  const int closed = memfd_of(16);
  ::close(closed);
  EXPECT_EQ(larodConvertVmemFdToDmabuf(closed, 0, &e), LAROD_INVALID_FD);
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  EXPECT_NE(e.msg().find("not open"), std::string::npos) << e.msg();
  e.clear();
  // Not memory: a pipe and a socket.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  EXPECT_EQ(larodConvertVmemFdToDmabuf(p[0], 0, &e), LAROD_INVALID_FD);
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  EXPECT_NE(e.msg().find("not memory"), std::string::npos) << e.msg();
  e.clear();
  int s[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
  EXPECT_EQ(larodConvertVmemFdToDmabuf(s[0], 0, &e), LAROD_INVALID_FD);
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  e.clear();
  for (int fd : {p[0], p[1], s[0], s[1]}) ::close(fd);
  // Offsets: negative, beyond the end, inside (no zero-copy view exists).
  const int frame = memfd_of(4096);
  EXPECT_EQ(larodConvertVmemFdToDmabuf(frame, -4, &e), LAROD_INVALID_FD);
  EXPECT_EQ(e.code(), EINVAL);
  e.clear();
  EXPECT_EQ(larodConvertVmemFdToDmabuf(frame, 4096, &e), LAROD_INVALID_FD);
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  EXPECT_NE(e.msg().find("beyond"), std::string::npos) << e.msg();
  e.clear();
  EXPECT_EQ(larodConvertVmemFdToDmabuf(frame, INT64_MAX, &e), LAROD_INVALID_FD);
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  e.clear();
  EXPECT_EQ(larodConvertVmemFdToDmabuf(frame, 1024, &e), LAROD_INVALID_FD);
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  EXPECT_NE(e.msg().find("larodSetTensorFdOffset"), std::string::npos) << e.msg();
  e.clear();
  // An empty memfd has no memory to convert.
  const int empty = memfd_of(0);
  EXPECT_EQ(larodConvertVmemFdToDmabuf(empty, 0, &e), LAROD_INVALID_FD);
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  ::close(empty);
  ::close(frame);
}

TEST(ExportModel, ArgumentsCheckedBeforeAnyRequest) {
  Err e;
  const larodDevice* no_dev = nullptr;
  EXPECT_FALSE(larodExportModel(nullptr, 0, 1, no_dev, nullptr, &e));
  EXPECT_EQ(e.code(), EINVAL);
  EXPECT_NE(e.msg().find("conn is NULL"), std::string::npos) << e.msg();
}

}  // namespace
