#include "kernels/op_resolver.h"

namespace osprey {

KernelFactory OpResolver::find(const Op& op) const {
  if (op.code == static_cast<int32_t>(OpCode::kCustom)) {
    auto it = custom_.find(op.custom_code);
    return it == custom_.end() ? nullptr : it->second;
  }
  auto it = builtin_.find(op.code);
  return it == builtin_.end() ? nullptr : it->second;
}

}  // namespace osprey
