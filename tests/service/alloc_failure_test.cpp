// Out of memory in liblarod is an error, never a crash: this binary replaces
// operator new so the Nth allocation of the test thread fails, and sweeps N
// over a whole session (connect, load, allocate, run sync and async, list,
// clean up). Each call either succeeds or returns an error with a message;
// the call that hit the failure reports LAROD_ERROR_ALLOC.
#include <atomic>
#include <cstdlib>
#include <new>

#include "service_fixture.h"

namespace {

// -1: off; otherwise the number of allocations left before one fails.
thread_local long t_countdown = -1;
thread_local bool t_injected = false;

void* allocate(size_t n) {
  if (t_countdown >= 0 && t_countdown-- == 0) {
    t_injected = true;
    return nullptr;
  }
  return std::malloc(n ? n : 1);
}

}  // namespace

void* operator new(size_t n) {
  if (void* p = allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  if (void* p = allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return allocate(n);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return allocate(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace osprey::service::testing {
namespace {

class AllocFailureTest : public ServiceTest {};

int open_fd_count() {
  int n = 0;
  for (int fd = 0; fd < 4096; ++fd) n += ::fcntl(fd, F_GETFD) >= 0;
  return n;
}

// One session through the API; stops at the first failing call. Returns the
// error of that call (code 0 when every call succeeded).
struct Outcome {
  int code = 0;
  std::string msg;
  std::string call;
};

Outcome run_session(const std::string& model_path) {
  Outcome out;
  Err e;
  auto failed = [&](const char* call) {
    out.code = e.code();
    out.msg = e.e && e.e->msg ? e.e->msg : "";
    out.call = call;
    if (out.code == 0) out.code = 1;  // a failure without an error: the test flags it
  };
  larodConnection* c = nullptr;
  larodModel* model = nullptr;
  larodMap* params = nullptr;
  larodTensor** in = nullptr;
  larodTensor** outs = nullptr;
  size_t num_in = 0, num_out = 0;
  larodJobRequest* job = nullptr;
  larodModel** models = nullptr;
  size_t num_models = 0;
  std::atomic<int> async_done{0};
  const larodDevice* dev = nullptr;
  int fd = -1;

  if (!larodConnect(&c, &e)) {
    failed("larodConnect");
    return out;
  }
  if (!(dev = larodGetDevice(c, "cpu-tflite", 0, &e))) {
    failed("larodGetDevice");
    goto done;
  }
  fd = ::open(model_path.c_str(), O_RDONLY | O_CLOEXEC);
  model = larodLoadModel(c, fd, dev, LAROD_ACCESS_PRIVATE, "tiny", nullptr, &e);
  ::close(fd);
  if (!model) {
    failed("larodLoadModel");
    goto done;
  }
  if (!(params = larodCreateMap(&e)) || !larodMapSetInt(params, "some.key", 1, &e)) {
    failed("larodCreateMap/larodMapSetInt");
    goto done;
  }
  if (!(in = larodAllocModelInputs(c, model, 0, &num_in, nullptr, &e))) {
    failed("larodAllocModelInputs");
    goto done;
  }
  if (!(outs = larodAllocModelOutputs(c, model, 0, &num_out, nullptr, &e))) {
    failed("larodAllocModelOutputs");
    goto done;
  }
  if (!larodTrackTensor(c, in[0], &e)) {
    failed("larodTrackTensor");
    goto done;
  }
  if (!(job = larodCreateJobRequest(model, in, num_in, outs, num_out, nullptr, &e))) {
    failed("larodCreateJobRequest");
    goto done;
  }
  if (!larodRunJob(c, job, &e)) {
    failed("larodRunJob");
    goto done;
  }
  if (!larodSetJobRequestParams(job, params, &e) || !larodSetJobRequestPriority(job, 60, &e)) {
    failed("larodSetJobRequestParams/Priority");
    goto done;
  }
  if (!larodRunJobAsync(
          c, job, [](void* user, larodError*) { static_cast<std::atomic<int>*>(user)->store(1); },
          &async_done, &e)) {
    failed("larodRunJobAsync");
    goto done;
  }
  eventually([&] { return async_done.load() == 1; }, 10);
  if (!(models = larodGetModels(c, &num_models, &e))) {
    failed("larodGetModels");
    goto done;
  }
  {  // The Larod 3.6 additions: export (a load and a delete in ospreyd), convert.
    const int model_fd = ::open(model_path.c_str(), O_RDONLY | O_CLOEXEC);
    const int export_fd = ::memfd_create("export", MFD_CLOEXEC);
    const bool exported = larodExportModel(c, model_fd, export_fd, dev, nullptr, &e);
    ::close(model_fd);
    ::close(export_fd);
    if (!exported) {
      failed("larodExportModel");
      goto done;
    }
    const int converted = larodConvertVmemFdToDmabuf(larodGetTensorFd(in[0], nullptr), 0, &e);
    if (converted < 0) {
      failed("larodConvertVmemFdToDmabuf");
      goto done;
    }
    ::close(converted);
    if (!larodBuildTensorDims(in[0], LAROD_TENSOR_LAYOUT_NHWC, 5, 5, 2, &e) ||
        !larodBuildTensorPitches(in[0], LAROD_TENSOR_LAYOUT_NHWC, 40, 5, 2, &e)) {
      failed("larodBuildTensorDims/Pitches");
      goto done;
    }
  }
  if (!larodDeleteModel(c, model, &e)) {
    failed("larodDeleteModel");
    goto done;
  }

done:
  // Clean-up runs whatever happened (after a failure the injected countdown
  // is spent, so these succeed or report a broken connection).
  larodDestroyModels(&models, num_models);
  larodDestroyJobRequest(&job);
  larodDestroyTensors(c, &outs, num_out, nullptr);
  larodDestroyTensors(c, &in, num_in, nullptr);
  larodDestroyMap(&params);
  larodDestroyModel(&model);
  if (c) larodDisconnect(&c, nullptr);
  return out;
}

TEST_F(AllocFailureTest, EveryFailedAllocationBecomesAnError) {
  // A clean run first: it must succeed, and it warms up what is made once
  // per process (interned devices, thread-local buffers).
  Outcome clean = run_session(model_path_);
  ASSERT_EQ(clean.code, 0) << clean.call << ": " << clean.msg;
  const int base_fds = open_fd_count();

  int injected_runs = 0;
  long n = 0;
  for (; n < 20000; ++n) {
    t_injected = false;
    t_countdown = n;
    Outcome o = run_session(model_path_);
    t_countdown = -1;
    if (!t_injected) {
      EXPECT_EQ(o.code, 0) << "N=" << n << " " << o.call << ": " << o.msg;
      break;  // the session no longer reaches N allocations
    }
    ++injected_runs;
    if (o.code != 0) {
      EXPECT_EQ(o.code, LAROD_ERROR_ALLOC) << "N=" << n << " " << o.call << ": " << o.msg;
      EXPECT_FALSE(o.msg.empty()) << "N=" << n << " " << o.call;
    }
    EXPECT_EQ(open_fd_count(), base_fds) << "fd leaked at N=" << n << " (" << o.call << ")";
    ASSERT_TRUE(daemon_.alive()) << daemon_.log();
  }
  EXPECT_GT(injected_runs, 50);  // the sweep covered real work
  EXPECT_LT(n, 20000);
  std::printf("swept %d failing allocations\n", injected_runs);
}

}  // namespace
}  // namespace osprey::service::testing
