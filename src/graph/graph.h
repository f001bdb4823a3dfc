// The in-memory graph osprey runs: tensors and operators in execution order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graph/op_code.h"
#include "graph/options.h"
#include "graph/tensor.h"

namespace osprey {

struct Op {
  int index = 0;            // position in the model's operator list (for messages)
  int32_t code = 0;         // an OpCode value, or another BuiltinOperator number
  std::string custom_code;  // for code == kCustom
  int version = 1;
  std::vector<int> inputs;  // tensor indices; -1 marks an omitted optional input
  std::vector<int> outputs;
  OpOptions options;
  std::vector<uint8_t> custom_options;

  // "CONV_2D", or the custom op's own name.
  std::string name() const;
};

// Storage the graph owns for constants it made itself (folded, converted).
struct OwnedBuffer {
  std::unique_ptr<uint8_t[], void (*)(uint8_t*)> bytes{nullptr, nullptr};
  size_t size = 0;
};

struct Graph {
  std::vector<Tensor> tensors;
  std::vector<Op> ops;
  std::vector<int> inputs;
  std::vector<int> outputs;

  // Gives tensor `t` fresh, 64-byte aligned, zeroed storage of its size.
  uint8_t* allocate_constant(Tensor& t);
  // Fresh, 64-byte aligned, zeroed storage of `size` bytes owned by the graph.
  uint8_t* allocate_bytes(size_t size);
  // The same holding a copy of from[0..size) (at least 1 byte; the padding
  // zeroed), written once rather than zeroed and then copied.
  uint8_t* copy_bytes(const uint8_t* from, size_t size);

 private:
  uint8_t* own(size_t rounded);  // uninitialised
  std::vector<OwnedBuffer> owned_;
};

}  // namespace osprey
