// Per-job overhead of ospreyd over in-process execution: the same model, the
// same machine, the same input, timed job by job. Prints numbers only (no
// timing assertions: the suite runs on shared machines).
// usage: overhead_bench [--json] [JOBS] [MODEL...]   (run under run_with_daemon.sh)
// --json: one JSON object per model instead of the text line (bench/service.mjs).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "larod.h"
#include "runtime/interpreter.h"
#include "support/model_builder.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Stats {
  double median_us = 0, mean_us = 0, p90_us = 0;
};

Stats summarize(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  Stats s;
  s.median_us = us[us.size() / 2];
  s.p90_us = us[us.size() * 9 / 10];
  for (double x : us) s.mean_us += x;
  s.mean_us /= static_cast<double>(us.size());
  return s;
}

template <typename F>
Stats time_jobs(int jobs, F&& run) {
  for (int i = 0; i < std::min(jobs / 10 + 5, 200); ++i) run();  // warm-up
  std::vector<double> us;
  us.reserve(static_cast<size_t>(jobs));
  for (int i = 0; i < jobs; ++i) {
    auto t0 = Clock::now();
    run();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  return summarize(us);
}

[[noreturn]] void die(const char* what, larodError* e) {
  std::fprintf(stderr, "overhead_bench: %s: %s\n", what, e && e->msg ? e->msg : "?");
  std::exit(1);
}

bool json_output = false;

void bench(const std::string& label, std::vector<uint8_t> bytes, int jobs) {
  // In-process: copy the input in, invoke, copy the output out (what ospreyd does too),
  // on ospreyd's default backends and thread count, so the difference is the service's.
  const osprey::BackendStack stack = osprey::make_backends(osprey::kDefaultBackend, 1);
  auto interp = osprey::Interpreter::from_buffer(bytes, label, stack.options());
  std::vector<std::vector<uint8_t>> in_data, out_data;
  for (int i = 0; i < interp->num_inputs(); ++i) in_data.emplace_back(interp->input(i).num_bytes(), 1);
  for (int i = 0; i < interp->num_outputs(); ++i) out_data.emplace_back(interp->output(i).num_bytes());
  Stats local = time_jobs(jobs, [&] {
    for (int i = 0; i < interp->num_inputs(); ++i)
      std::memcpy(interp->input(i).data, in_data[static_cast<size_t>(i)].data(),
                  in_data[static_cast<size_t>(i)].size());
    interp->invoke();
    for (int i = 0; i < interp->num_outputs(); ++i)
      std::memcpy(out_data[static_cast<size_t>(i)].data(), interp->output(i).data,
                  out_data[static_cast<size_t>(i)].size());
  });

  // Through ospreyd with service-allocated tensors.
  larodError* e = nullptr;
  larodConnection* c = nullptr;
  if (!larodConnect(&c, &e)) die("connect", e);
  const larodDevice* dev = larodGetDevice(c, "cpu-tflite", 0, &e);
  char path[] = "/tmp/osprey-bench-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
    die("temp file", nullptr);
  larodModel* m = larodLoadModel(c, fd, dev, LAROD_ACCESS_PRIVATE, label.c_str(), nullptr, &e);
  ::close(fd);
  ::unlink(path);
  if (!m) die("load", e);
  size_t n_in, n_out;
  larodTensor** in = larodAllocModelInputs(c, m, LAROD_FD_PROP_MAP, &n_in, nullptr, &e);
  larodTensor** out = larodAllocModelOutputs(c, m, LAROD_FD_PROP_MAP, &n_out, nullptr, &e);
  if (!in || !out) die("alloc", e);
  larodJobRequest* req = larodCreateJobRequest(m, in, n_in, out, n_out, nullptr, &e);
  if (!req) die("job", e);
  Stats service = time_jobs(jobs, [&] {
    if (!larodRunJob(c, req, &e)) die("run", e);
  });

  // Through ospreyd with application memfds passed with every job (untracked).
  larodTensor** in2 = larodCreateModelInputs(m, &n_in, &e);
  larodTensor** out2 = larodCreateModelOutputs(m, &n_out, &e);
  std::vector<int> fds;
  for (size_t i = 0; i < n_in + n_out; ++i) {
    larodTensor* t = i < n_in ? in2[i] : out2[i - n_in];
    size_t size = 0;
    larodGetTensorByteSize(t, &size, &e);
    int mfd = ::memfd_create("bench", MFD_CLOEXEC);
    if (::ftruncate(mfd, static_cast<off_t>(size)) != 0) die("ftruncate", nullptr);
    larodSetTensorFd(t, mfd, &e);
    fds.push_back(mfd);
  }
  larodJobRequest* req2 = larodCreateJobRequest(m, in2, n_in, out2, n_out, nullptr, &e);
  Stats untracked = time_jobs(jobs, [&] {
    if (!larodRunJob(c, req2, &e)) die("run", e);
  });

  if (json_output) {
    std::printf(
        "{\"model\": \"%s\", \"jobs\": %d, \"in_process_median_us\": %.1f, \"ospreyd_median_us\": %.1f, "
        "\"ospreyd_p90_us\": %.1f, \"fd_per_job_median_us\": %.1f}\n",
        label.c_str(), jobs, local.median_us, service.median_us, service.p90_us, untracked.median_us);
  } else {
    std::printf(
        "%-28s in-process %8.1f us/job (median %8.1f) | ospreyd %8.1f us/job (median %8.1f, p90 %8.1f) | "
        "fd per job %8.1f us (median %8.1f) | overhead (median) %6.1f us, %6.1f us with fds\n",
        label.c_str(), local.mean_us, local.median_us, service.mean_us, service.median_us, service.p90_us,
        untracked.mean_us, untracked.median_us, service.median_us - local.median_us,
        untracked.median_us - local.median_us);
  }
  std::fflush(stdout);

  larodDestroyJobRequest(&req);
  larodDestroyJobRequest(&req2);
  larodDestroyTensors(c, &in, n_in, nullptr);
  larodDestroyTensors(c, &out, n_out, nullptr);
  larodDestroyTensors(c, &in2, n_in, nullptr);
  larodDestroyTensors(c, &out2, n_out, nullptr);
  for (int f : fds) ::close(f);
  larodDestroyModel(&m);
  larodDisconnect(&c, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--json") == 0) {
    json_output = true;
    ++argv;
    --argc;
  }
  const int jobs = argc > 1 ? std::atoi(argv[1]) : 2000;
  bench("tiny conv (5x5x2)", osprey::testing::build_model(osprey::testing::tiny_conv_model()), jobs);
  for (int i = 2; i < argc; ++i) {
    std::ifstream f(argv[i], std::ios::binary);
    if (!f) {
      std::printf("%s: not found, skipped\n", argv[i]);
      continue;
    }
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::string label = argv[i];
    label = label.substr(label.find_last_of('/') + 1);
    bench(label, std::move(bytes), std::max(20, jobs / 50));
  }
  return 0;
}
