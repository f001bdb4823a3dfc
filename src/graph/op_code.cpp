#include "graph/op_code.h"

#include "model/tflite_schema_generated.h"
#include "ops/registry.h"

namespace osprey {

std::string op_code_name(int32_t code) {
  if (const ops::OpDef* def = ops::find_op(code); def && code != static_cast<int32_t>(OpCode::kCustom))
    return std::string(def->name);
  // Ops osprey has no kernel for keep the format's name (shown by inspect and check).
  if (code >= static_cast<int32_t>(tfl::BuiltinOperator::MIN) &&
      code <= static_cast<int32_t>(tfl::BuiltinOperator::MAX)) {
    const char* name = tfl::EnumNameBuiltinOperator(static_cast<tfl::BuiltinOperator>(code));
    if (name && *name) return name;
  }
  return "OP_" + std::to_string(code);
}

}  // namespace osprey
