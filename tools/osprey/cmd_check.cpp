// `osprey check MODEL --target artpec7|artpec8|artpec9|cv25|cpu [--json]`: which
// ops the target's accelerator runs and which fall back to the CPU, and why.
// Exit status 0: the whole model runs on the accelerator; 2: some of it does
// not; 1: error.
#include <fmt/format.h>

#include "commands.h"
#include "model_import.h"
#include "quant/targets.h"
#include "runtime/interpreter.h"
#include "vision/model_metadata.h"

namespace osprey::cli {

namespace {

struct CheckArgs {
  std::string model;
  std::string target;
  bool json = false;
  ModelImport import;
};

void check(const CheckArgs& a) {
  const quant::Target target = quant::parse_target(a.target);
  const std::string path = vision::resolve_model_path(a.model);
  auto interp = a.import.load(path);
  // Ops folded into constants at load time (fp16/sparse weights) are not run by any target.
  const Graph live = quant::without_folded_ops(interp->graph());
  const quant::TargetReport report = quant::check_target(live, target);
  if (a.json) {
    fmt::print("{}\n", quant::target_report_json(report, path));
  } else {
    fmt::print("{}", quant::format_target_report(report, path));
  }
  std::fflush(stdout);
  if (!report.all_accelerated()) throw CLI::RuntimeError(2);
}

}  // namespace

void add_check_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("check", "What a DLPU target runs of a model, and what falls back to the CPU");
  static CheckArgs args;
  cmd->add_option("MODEL", args.model, "A .tflite or .onnx model (path or zoo name)")->required();
  args.import.add_options(cmd);
  cmd->add_option("--target", args.target, "cpu, artpec7, artpec8, artpec9 or cv25")->required();
  cmd->add_flag("--json", args.json, "Print the report as JSON");
  cmd->footer(
      "Exit status: 0 the whole model runs on the accelerator, 2 some ops fall back to the CPU, 1 error.");
  cmd->callback([] { check(args); });
}

}  // namespace osprey::cli
