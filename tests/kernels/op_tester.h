// Builds a graph of one op with given inputs, runs the reference kernel for it
// through prepare and eval, and hands back the outputs.
#pragma once

#include <cstring>
#include <vector>

#include "graph/graph.h"
#include "kernels/op_resolver.h"

namespace osprey::testing {

class OpTester {
 public:
  // Adds an input tensor holding `values`; constant inputs model weights.
  template <typename T>
  int add_input(const Shape& shape, const std::vector<T>& values, bool constant = false,
                Quantization quant = {}) {
    Tensor t;
    t.type = dtype_of<T>();
    t.shape = shape;
    t.quant = std::move(quant);
    t.name = "in" + std::to_string(graph_.tensors.size());
    graph_.tensors.push_back(t);
    Tensor& stored = graph_.tensors.back();
    graph_.allocate_constant(stored);
    stored.is_constant = constant;
    std::memcpy(stored.data, values.data(), std::min(values.size() * sizeof(T), stored.num_bytes()));
    op_.inputs.push_back(static_cast<int>(graph_.tensors.size()) - 1);
    return static_cast<int>(graph_.tensors.size()) - 1;
  }
  // Adds an input of raw bytes of any type (e.g. float16 weights).
  int add_raw_input(DType type, const Shape& shape, const std::vector<uint8_t>& bytes, bool constant,
                    Quantization quant = {});
  void add_missing_input() { op_.inputs.push_back(-1); }
  // Adds an output; its shape is what prepare infers (the declared shape is a hint).
  int add_output(DType type, Shape declared = {}, Quantization quant = {});

  void set_op(OpCode code, OpOptions options = {}) {
    op_.code = static_cast<int32_t>(code);
    op_.options = std::move(options);
  }
  void set_custom_op(const std::string& name, std::vector<uint8_t> custom_options) {
    op_.code = static_cast<int32_t>(OpCode::kCustom);
    op_.custom_code = name;
    op_.custom_options = std::move(custom_options);
  }

  // Prepares and evaluates; throws osprey::Error as prepare does.
  void run();

  const Tensor& output(int i = 0) const;
  template <typename T>
  std::vector<T> output_values(int i = 0) const {
    const Tensor& t = output(i);
    std::vector<T> v(static_cast<size_t>(t.num_elements()));
    if (!v.empty()) std::memcpy(v.data(), t.data, v.size() * sizeof(T));
    return v;
  }
  Shape output_shape(int i = 0) const { return output(i).shape; }

 private:
  Graph graph_;
  Op op_;
};

}  // namespace osprey::testing
