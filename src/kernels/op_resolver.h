// Maps operator codes (and custom op names) to kernels. An op may have a float
// kernel and an integer (quantized) kernel; when it has both, the choice is
// made at prepare time from the type of the op's first output.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "kernels/kernel.h"

namespace osprey {

class OpResolver {
 public:
  void add(OpCode code, KernelFactory factory) { float_[static_cast<int32_t>(code)] = factory; }
  void add_quantized(OpCode code, KernelFactory factory) { quantized_[static_cast<int32_t>(code)] = factory; }
  void add_custom(const std::string& name, KernelFactory factory) { custom_[name] = factory; }

  // nullptr when no kernel is registered for the op.
  std::unique_ptr<Kernel> create(const Op& op) const;
  bool supports(const Op& op) const;

 private:
  std::map<int32_t, KernelFactory> float_;
  std::map<int32_t, KernelFactory> quantized_;
  std::map<std::string, KernelFactory> custom_;
};

// The portable float/integer reference kernels: every faster path is tested against these.
const OpResolver& reference_op_resolver();

}  // namespace osprey
