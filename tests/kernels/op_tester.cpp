#include "op_tester.h"

#include <memory>

#include "ops/registry.h"

namespace osprey::testing {

int OpTester::add_raw_input(DType type, const Shape& shape, const std::vector<uint8_t>& bytes, bool constant,
                            Quantization quant) {
  Tensor t;
  t.type = type;
  t.shape = shape;
  t.quant = std::move(quant);
  graph_.tensors.push_back(t);
  Tensor& stored = graph_.tensors.back();
  graph_.allocate_constant(stored);
  stored.is_constant = constant;
  std::memcpy(stored.data, bytes.data(), std::min(bytes.size(), stored.num_bytes()));
  op_.inputs.push_back(static_cast<int>(graph_.tensors.size()) - 1);
  return static_cast<int>(graph_.tensors.size()) - 1;
}

int OpTester::add_output(DType type, Shape declared, Quantization quant) {
  Tensor t;
  t.type = type;
  t.shape = std::move(declared);
  t.quant = std::move(quant);
  graph_.tensors.push_back(t);
  op_.outputs.push_back(static_cast<int>(graph_.tensors.size()) - 1);
  return static_cast<int>(graph_.tensors.size()) - 1;
}

void OpTester::run() {
  // set_custom_op keeps the bytes; the op registry parses them here, as the loader does.
  if (op_.code == static_cast<int32_t>(OpCode::kCustom))
    op_.options = ops::parse_options(op_.code, op_.custom_code, {nullptr, op_.custom_options});
  std::unique_ptr<Kernel> kernel = reference_op_resolver().create(op_);
  OSPREY_CHECK(kernel != nullptr, "no reference kernel for {}", op_.name());
  KernelContext ctx(graph_, op_);
  kernel->prepare(ctx);
  for (int o : op_.outputs) {
    Tensor& t = graph_.tensors[static_cast<size_t>(o)];
    graph_.allocate_constant(t);
    t.is_constant = false;
  }
  kernel->eval(ctx);
}

const Tensor& OpTester::output(int i) const {
  return graph_.tensors[static_cast<size_t>(op_.outputs[static_cast<size_t>(i)])];
}

}  // namespace osprey::testing
