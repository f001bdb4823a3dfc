#include "graph/op_code.h"

#include "model/tflite_schema_generated.h"

namespace osprey {

std::string op_code_name(int32_t code) {
  if (code >= static_cast<int32_t>(tfl::BuiltinOperator::MIN) &&
      code <= static_cast<int32_t>(tfl::BuiltinOperator::MAX)) {
    const char* name = tfl::EnumNameBuiltinOperator(static_cast<tfl::BuiltinOperator>(code));
    if (name && *name) return name;
  }
  return "OP_" + std::to_string(code);
}

}  // namespace osprey
