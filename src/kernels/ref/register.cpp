// The reference resolver holds every kernel the op registry names.
#include "kernels/op_resolver.h"
#include "ops/registry.h"

namespace osprey {

const OpResolver& reference_op_resolver() {
  static const OpResolver resolver = [] {
    OpResolver r;
    for (const ops::OpDef& def : ops::all_ops()) {
      if (def.code == static_cast<int32_t>(OpCode::kCustom)) {
        if (def.float_kernel) r.add_custom(std::string(def.custom_name), def.float_kernel);
        continue;
      }
      if (def.float_kernel) r.add(static_cast<OpCode>(def.code), def.float_kernel);
      if (def.integer_kernel) r.add_quantized(static_cast<OpCode>(def.code), def.integer_kernel);
    }
    return r;
  }();
  return resolver;
}

}  // namespace osprey
