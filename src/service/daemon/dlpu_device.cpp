// The emulated DLPU devices: the camera chips' larod device names, loading
// exactly the models `osprey check --target CHIP` says the chip loads (the same
// code, quant/targets.h), logging the ops the chip would hand to its CPU, and
// running what they accept on cpu-tflite's machinery. They emulate acceptance,
// not the chip's speed or its exact numerics.
#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

#include "quant/targets.h"
#include "runtime/interpreter.h"
#include "service/daemon/device.h"
#include "service/daemon/log.h"

namespace osprey::service {

namespace {

// The chips whose acceptance rules quant/targets.h knows. CV25 is left out:
// its device (ambarella-cvflow) loads Ambarella's compiled format, not .tflite.
constexpr quant::Target kEmulatedChips[] = {quant::Target::kArtpec7, quant::Target::kArtpec8,
                                            quant::Target::kArtpec9};

// One line per op kind the chip would run on its CPU, so a developer sees at
// load time what the camera would not accelerate and why.
void log_placement(const quant::TargetReport& report, const std::string& device, const std::string& model) {
  struct Kind {
    int count = 0;
    int first = 0;
    std::string reason;
  };
  std::vector<std::string> order;
  std::map<std::string, Kind> kinds;
  for (const quant::OpPlacement& p : report.ops) {
    if (p.accelerated) continue;
    auto [it, added] = kinds.try_emplace(p.op);
    if (added) {
      order.push_back(p.op);
      it->second.first = p.index;
      it->second.reason = p.reasons.empty() ? "" : p.reasons.front();
    }
    ++it->second.count;
  }
  const size_t total = report.ops.size();
  log_event(kLogInfo, "dlpu_placement",
            {{"device", device},
             {"name", model},
             {"accelerated", std::to_string(report.accelerated)},
             {"ops", std::to_string(total)},
             {"cpu_fallback", std::to_string(total - static_cast<size_t>(report.accelerated))}});
  for (const std::string& op : order) {
    const Kind& k = kinds[op];
    log_event(kLogInfo, "cpu_fallback",
              {{"device", device},
               {"name", model},
               {"op", op},
               {"count", std::to_string(k.count)},
               {"first", fmt::format("#{}", k.first)},
               {"reason", k.reason}});
  }
}

void admit(quant::Target chip, const std::string& device, const std::vector<uint8_t>& bytes,
           const std::string& model, uint64_t max_working_bytes) {
  // The view `osprey check` takes: the model prepared on the reference
  // kernels, minus the ops load-time folding turned into constants. A model
  // osprey cannot run at all fails here with cpu-tflite's message.
  InterpreterOptions options;
  options.max_tensor_bytes = max_working_bytes;
  const auto probe = Interpreter::from_buffer(bytes, model, options);
  const quant::TargetReport report = quant::check_target(quant::without_folded_ops(probe->graph()), chip);
  if (!report.load_refusal.empty()) {
    throw ServiceError(wire::kErrLoadModel,
                       std::string(quant::target_device(chip)) + ": " + report.load_refusal);
  }
  log_placement(report, device, model);
}

}  // namespace

std::vector<std::unique_ptr<Device>> make_dlpu_devices(const TfliteSettings& settings) {
  std::vector<std::unique_ptr<Device>> devices;
  for (quant::Target chip : kEmulatedChips) {
    const std::string name = quant::target_device(chip);
    const std::string label = name + ":0";
    devices.push_back(make_tflite_device(
        name, settings,
        [chip, label](const std::vector<uint8_t>& bytes, const std::string& model,
                      uint64_t max_working_bytes) { admit(chip, label, bytes, model, max_working_bytes); }));
  }
  return devices;
}

}  // namespace osprey::service
