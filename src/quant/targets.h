// What each deployment target accelerates, from the published constraints
// (Axis developer documentation for ARTPEC-7/8/9, Coral's Edge TPU model
// requirements for ARTPEC-7, Ambarella CV25 notes): per op, whether it runs on
// the accelerator or falls back to the CPU, and why.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"

namespace osprey::quant {

enum class Target { kCpu, kArtpec7, kArtpec8, kArtpec9, kCv25 };

Target parse_target(const std::string& name);
const char* target_name(Target t);    // "artpec8"
const char* target_title(Target t);   // "ARTPEC-8"
const char* target_device(Target t);  // larod device name, e.g. "axis-a8-dlpu-tflite"

struct OpPlacement {
  int index = 0;  // op index in the model
  std::string op;
  bool accelerated = true;
  std::vector<std::string> reasons;  // why it falls back to the CPU
  std::vector<std::string> hints;    // runs, but slower than it could
};

struct TargetReport {
  Target target = Target::kCpu;
  std::vector<OpPlacement> ops;
  bool full_integer = true;  // no float tensors outside the model's I/O conversions, no float ops
  std::vector<std::string> per_channel_tensors;  // "name (N scales)"
  std::vector<std::string> float_ops;            // "#3 CONV_2D"
  std::vector<std::string> model_issues;         // whole-model problems (input size, layout, ...)
  int accelerated = 0;
  // Why the target's larod device refuses to load the model ("" when it
  // loads it): the DLPUs refuse float computation (the first op doing it is
  // named); ops they cannot run merely fall back to the CPU. ospreyd's
  // emulated devices refuse with exactly this text.
  std::string load_refusal;
  bool all_accelerated() const { return accelerated == static_cast<int>(ops.size()) && model_issues.empty(); }
};

TargetReport check_target(const Graph& graph, Target target);

// The ops a target is given: `prepared` (an Interpreter's graph) without the
// ops load-time folding turned into constants (fp16 DEQUANTIZE, DENSIFY).
Graph without_folded_ops(const Graph& prepared);

std::string format_target_report(const TargetReport& report, const std::string& model);
std::string target_report_json(const TargetReport& report, const std::string& model);

}  // namespace osprey::quant
