// Serialises an osprey Graph back into a standard .tflite flatbuffer (one
// subgraph, schema version 3): the inverse of load_graph.
//
// Every op, tensor (name, type, shape, quantization incl. per-axis) and
// constant buffer of the graph is written; tensors no op or model I/O uses are
// dropped. Builtin options are rebuilt from the parsed OpOptions, custom ops
// keep their custom options bytes (or rebuild them, when their registry entry
// has a custom option writer). Operator versions are the lowest TFLite
// version that covers the op's tensor types (e.g. int8 CONV_2D is version 3),
// or the op's own version when that is higher.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace osprey {

struct WriterOptions {
  std::string description = "osprey";
  // Extra key/value metadata entries (name -> bytes), e.g. osprey's
  // quantization report; TFLite ignores metadata it does not know.
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Throws osprey::Error when the graph cannot be written (sparse tensors,
// constants without data, ops whose options osprey does not keep).
std::vector<uint8_t> write_tflite(const Graph& graph, const WriterOptions& options = {});

// The TFLite operator version write_tflite records for `op` in `graph`.
int tflite_op_version(const Graph& graph, const Op& op);

}  // namespace osprey
