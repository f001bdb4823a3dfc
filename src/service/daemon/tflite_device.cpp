// cpu-tflite: .tflite models on osprey's runtime (also the machinery of the
// emulated DLPU devices, which first vet each model).
#include <algorithm>
#include <cstring>

#include "backends/backend.h"
#include "core/error.h"
#include "runtime/interpreter.h"
#include "service/daemon/device.h"
#include "service/daemon/heap_usage.h"

namespace osprey::service {

namespace {

uint32_t wire_type(DType t) {
  switch (t) {
    case DType::kFloat32: return wire::kTypeFloat32;
    case DType::kFloat16: return wire::kTypeFloat16;
    case DType::kInt32: return wire::kTypeInt32;
    case DType::kUInt8: return wire::kTypeUInt8;
    case DType::kInt64: return wire::kTypeInt64;
    case DType::kBool: return wire::kTypeBool;
    case DType::kInt16: return wire::kTypeInt16;
    case DType::kInt8: return wire::kTypeInt8;
    case DType::kFloat64: return wire::kTypeFloat64;
    case DType::kString: break;
  }
  return wire::kTypeInvalid;
}

TensorInfo describe(const Tensor& t, const char* side, int index) {
  TensorInfo info;
  info.name = t.name;
  info.data_type = wire_type(t.type);
  if (info.data_type == wire::kTypeInvalid || !t.data) {
    fail("{} {} ('{}') has type {}, which cannot be passed in a tensor fd", side, index, t.name,
         dtype_name(t.type));
  }
  for (int32_t d : t.shape) {
    if (d < 0) fail("{} {} ('{}') has a dynamic shape {}", side, index, t.name, shape_str(t.shape));
    info.dims.push_back(static_cast<uint64_t>(d));
  }
  info.layout = t.rank() == 4 ? wire::kLayoutNHWC : wire::kLayoutUnspecified;
  // Packed pitches: pitches[i] = bytes of one slice of dims i..n-1.
  info.pitches.assign(info.dims.size(), 0);
  uint64_t bytes = dtype_size(t.type);
  for (size_t i = info.dims.size(); i-- > 0;) {
    bytes *= info.dims[i];
    info.pitches[i] = bytes;
  }
  info.byte_size = t.num_bytes();
  return info;
}

class TfliteModel : public LoadedModel {
 public:
  TfliteModel(std::unique_ptr<Interpreter> interp, std::string device)
      : interp_(std::move(interp)), device_(std::move(device)) {
    for (int i = 0; i < interp_->num_inputs(); ++i) inputs.push_back(describe(interp_->input(i), "input", i));
    for (int i = 0; i < interp_->num_outputs(); ++i)
      outputs.push_back(describe(interp_->output(i), "output", i));
  }

  void run(const std::vector<IoSpan>& in, const std::vector<IoSpan>& out, const ParamMap& params) override {
    if (!params.empty()) {
      throw ServiceError(wire::kErrJob,
                         device_ + " takes no job parameters (got '" + params.begin()->first + "')");
    }
    for (size_t i = 0; i < in.size(); ++i) {
      Tensor& t = interp_->input(static_cast<int>(i));
      std::memcpy(t.data, in[i].data, t.num_bytes());
    }
    interp_->invoke();
    for (size_t i = 0; i < out.size(); ++i) {
      const Tensor& t = interp_->output(static_cast<int>(i));
      std::memcpy(out[i].data, t.data, t.num_bytes());
    }
  }

 private:
  std::unique_ptr<Interpreter> interp_;
  std::string device_;
};

class TfliteDevice : public Device {
 public:
  TfliteDevice(std::string name, TfliteSettings settings, ModelCheck check)
      : Device(std::move(name), 0), settings_(std::move(settings)), check_(std::move(check)) {
    make_backends(settings_.backend, settings_.threads);  // fails now, at start-up, for an unknown name
  }

  std::shared_ptr<LoadedModel> load(std::vector<uint8_t>* bytes, const ParamMap& params,
                                    const std::string& label, uint64_t max_working_bytes) override {
    if (!bytes)
      throw ServiceError(wire::kErrLoadModel, name() + " needs a .tflite file; the model fd was -1");
    if (!params.empty()) {
      throw ServiceError(wire::kErrLoadModel,
                         name() + " takes no model parameters (got '" + params.begin()->first + "')");
    }
    if (check_) check_(*bytes, label, max_working_bytes);
    // The execution backends only have to live while the model loads.
    const BackendStack backends = make_backends(settings_.backend, settings_.threads);
    InterpreterOptions options = backends.options();
    options.max_tensor_bytes = max_working_bytes;
    // The model holds its file (the interpreter takes the bytes read, rather
    // than a second copy of them), its arena (an mmap), and on the heap the
    // constants it made, the weights XNNPACK and osprey's kernels packed,
    // their tables and scratch, and what XNNPACK's runtimes allocate when
    // set up with the planned tensors (Kernel::bind, at load). Loads take
    // turns (Server::load_or_share), so the heap's growth meanwhile is this
    // model's, give or take what other sessions allocate or free at the same
    // time (messages, a model unloaded). No inference runs here: a model's
    // cost to run is its client's jobs', not every other client's wait to
    // load. The pages of constants given back once packed (the file's or
    // made ones) stay allocated but are not resident. Never less than the
    // file and the arena.
    const uint64_t file_bytes = bytes->size();
    const int64_t heap_before = static_cast<int64_t>(heap_bytes_in_use());
    auto interp = Interpreter::from_buffer(std::move(*bytes), label, options);
    const int64_t held = static_cast<int64_t>(file_bytes) + static_cast<int64_t>(heap_bytes_in_use()) -
                         heap_before - static_cast<int64_t>(interp->released_weight_bytes());
    const uint64_t arena = interp->arena_bytes();
    auto model = std::make_shared<TfliteModel>(std::move(interp), name());
    model->size = file_bytes;
    model->memory = static_cast<uint64_t>(std::max(held, static_cast<int64_t>(file_bytes))) + arena;
    return model;
  }

 private:
  TfliteSettings settings_;
  ModelCheck check_;
};

}  // namespace

std::unique_ptr<Device> make_tflite_device(const TfliteSettings& settings) {
  return std::make_unique<TfliteDevice>("cpu-tflite", settings, nullptr);
}

std::unique_ptr<Device> make_tflite_device(std::string name, const TfliteSettings& settings,
                                           ModelCheck check) {
  return std::make_unique<TfliteDevice>(std::move(name), settings, std::move(check));
}

}  // namespace osprey::service
