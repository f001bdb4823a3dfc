// `osprey convert MODEL.onnx -o MODEL.tflite [--input-shape NAME:D0,D1,...]...` (or --list-ops):
// ONNX → TFLite with NHWC layout and standard builtins (docs/onnx.md).
#include <fmt/format.h>

#include <fstream>

#include "commands.h"
#include "onnx/import.h"
#include "runtime/interpreter.h"

namespace osprey::cli {

namespace {

struct ConvertArgs {
  std::string model;
  std::string output;
  std::vector<std::string> input_shapes;
  bool list_ops = false;
};

void convert(const ConvertArgs& args) {
  if (args.list_ops) {
    for (const std::string& op : onnx::supported_op_types()) fmt::print("{}\n", op);
    return;
  }
  OSPREY_CHECK(!args.model.empty() && !args.output.empty(), "convert needs MODEL.onnx and -o MODEL.tflite");
  OSPREY_CHECK(onnx::is_onnx_path(args.model), "{}: convert reads .onnx models", args.model);
  onnx::ImportOptions import;
  for (const std::string& spec : args.input_shapes)
    import.input_shapes.push_back(onnx::parse_input_shape(spec));
  std::vector<uint8_t> bytes = onnx::convert_onnx_file(args.model, import);
  // Load the result before writing it: a model osprey cannot prepare is never written.
  const auto interp = Interpreter::from_buffer(bytes, args.output);
  std::ofstream out(args.output, std::ios::binary);
  OSPREY_CHECK(out.good(), "{}: cannot write", args.output);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  OSPREY_CHECK(out.good(), "{}: write failed", args.output);
  fmt::print("{}: {} ops, {} bytes\n", args.output, interp->graph().ops.size(), bytes.size());
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert", "Convert an ONNX model to TFLite (NHWC, standard builtins)");
  static ConvertArgs args;
  cmd->add_option("MODEL", args.model, "Path to an .onnx model");
  cmd->add_option("--output,-o", args.output, "Where the .tflite goes");
  cmd->add_flag("--list-ops", args.list_ops, "Print the ONNX op types osprey imports, one per line");
  cmd->add_option("--input-shape", args.input_shapes,
                  "NAME:D0,D1,... fixes an input's dynamic dimensions (repeatable)");
  cmd->callback([] { convert(args); });
}

}  // namespace osprey::cli
