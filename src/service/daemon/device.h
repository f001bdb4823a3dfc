// Devices of ospreyd: each loads "models" and runs jobs on them, one job at a
// time, from a priority queue served by the device's own worker thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "service/daemon/buffer.h"
#include "service/daemon/memory_budget.h"
#include "service/protocol.h"

namespace osprey::service {

// A failure with the larodErrorCode it maps to; the message is the real
// reason, shown to the client and logged.
class ServiceError : public std::runtime_error {
 public:
  ServiceError(int32_t status, const std::string& what) : std::runtime_error(what), status_(status) {}
  int32_t status() const { return status_; }

 private:
  int32_t status_;
};

// Memory of one job tensor as a device sees it: `size` bytes at `data`.
struct IoSpan {
  uint8_t* data = nullptr;
  size_t size = 0;
  const TensorRef* ref = nullptr;  // what the client said about the tensor
};

// What a device made of a model file (or of parameters, for cpu-proc).
// Only the device's worker thread calls run(), so implementations need no
// locking. Shared by every handle that loaded the same bytes.
class LoadedModel {
 public:
  virtual ~LoadedModel() = default;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  uint64_t size = 0;  // bytes of the model file
  // Bytes the model holds while loaded (the file, working tensors, scratch),
  // set by the device; the server charges them to its memory budget.
  uint64_t memory = 0;
  MemoryBudget::Reservation charge;
  // Mean run time in microseconds (0 until the first run); cheap models may
  // run on the requesting session's thread (Device::try_run_inline).
  std::atomic<uint64_t> mean_us{0};
  // Throws ServiceError (or osprey::Error, reported as a job error).
  virtual void run(const std::vector<IoSpan>& in, const std::vector<IoSpan>& out, const ParamMap& params) = 0;
};

struct Session;
struct ModelHandle;

struct JobTensor {
  std::shared_ptr<Buffer> buffer;
  uint64_t offset = 0;
  uint64_t length = 0;  // bytes the job may touch from offset
  TensorRef ref;
};

struct Job {
  uint64_t request_id = 0;
  uint8_t priority = 50;
  uint64_t seq = 0;
  std::shared_ptr<Session> session;
  std::shared_ptr<ModelHandle> model;
  std::vector<JobTensor> inputs;
  std::vector<JobTensor> outputs;
  ParamMap params;
};

class Device {
 public:
  using Completion = std::function<void(Job&, int32_t status, const std::string& message)>;

  Device(std::string name, uint32_t instance) : name_(std::move(name)), instance_(instance) {}
  virtual ~Device();
  const std::string& name() const { return name_; }
  uint32_t instance() const { return instance_; }
  std::string label() const { return name_ + ":" + std::to_string(instance_); }

  // `bytes` is null for a model loaded with fd -1; the device may take them
  // (the caller reads them no more). `label` names the model in
  // messages. A model whose working memory would pass `max_working_bytes`
  // (0: no limit) is refused before it is allocated, with osprey::
  // TensorBudgetExceeded. Throws ServiceError or osprey::Error with the real
  // reason.
  virtual std::shared_ptr<LoadedModel> load(std::vector<uint8_t>* bytes, const ParamMap& params,
                                            const std::string& label, uint64_t max_working_bytes) = 0;

  void start(Completion completion);
  void stop();
  void submit(Job job);
  // Runs the job on the calling thread when the device is idle (nothing
  // queued or running, not paused) and the model is known to be quick;
  // returns false, leaving `job` untouched, otherwise. Saves a thread
  // hand-off per job; priorities are unaffected (nothing else is waiting).
  bool try_run_inline(Job& job);
  size_t queued() const;
  // Test hooks: hold jobs in the queue until resume().
  void pause();
  void resume();

 private:
  // Heap order: higher priority first, then first come first served.
  static bool later(const Job& a, const Job& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.seq > b.seq;
  }
  void worker();
  void execute(Job& job);

  std::string name_;
  uint32_t instance_;
  Completion completion_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Job> queue_;  // a heap ordered by later()
  uint64_t next_seq_ = 0;
  bool stopping_ = false;
  bool paused_ = false;
  bool busy_ = false;  // a job is running (on the worker or inline)
  std::thread thread_;
};

// How the .tflite devices run models on the CPU. `backend` is a list
// make_backends() knows ("ref", "osprey-avx512,xnnpack"; a bad one throws
// osprey::Error); `threads` 0 = one per core.
struct TfliteSettings {
  std::string backend;
  int threads = 1;
};

std::unique_ptr<Device> make_tflite_device(const TfliteSettings& settings);
// Looks at a model file before a tflite device prepares it; throws
// ServiceError (or osprey::Error) to refuse it. `label` names the model; a
// check that prepares the model keeps to `max_working_bytes` (Device::load).
using ModelCheck = std::function<void(const std::vector<uint8_t>& bytes, const std::string& label,
                                      uint64_t max_working_bytes)>;
// cpu-tflite's machinery under another device name, admitting only the models
// that pass `check`.
std::unique_ptr<Device> make_tflite_device(std::string name, const TfliteSettings& settings,
                                           ModelCheck check);
// The emulated DLPUs (dlpu_device.cpp): one device per chip, named as on the
// camera, loading what `osprey check --target CHIP` says the chip loads.
std::vector<std::unique_ptr<Device>> make_dlpu_devices(const TfliteSettings& settings);
std::unique_ptr<Device> make_proc_device();

}  // namespace osprey::service
