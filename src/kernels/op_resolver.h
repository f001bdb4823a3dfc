// Maps operator codes (and custom op names) to kernel factories.
#pragma once

#include <map>
#include <string>

#include "kernels/kernel.h"

namespace osprey {

class OpResolver {
 public:
  void add(OpCode code, KernelFactory factory) { builtin_[static_cast<int32_t>(code)] = factory; }
  void add_custom(const std::string& name, KernelFactory factory) { custom_[name] = factory; }
  // nullptr when no kernel is registered for the op.
  KernelFactory find(const Op& op) const;
  bool supports(const Op& op) const { return find(op) != nullptr; }

 private:
  std::map<int32_t, KernelFactory> builtin_;
  std::map<std::string, KernelFactory> custom_;
};

// The portable float/integer reference kernels: every faster path is tested against these.
const OpResolver& reference_op_resolver();

}  // namespace osprey
