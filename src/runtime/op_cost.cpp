#include "runtime/op_cost.h"

#include "ops/registry.h"

namespace osprey {

int64_t op_macs(const Graph& g, const Op& op) {
  if (op.outputs.empty()) return 0;
  const ops::OpDef* def = ops::find_op(op);
  if (def && def->macs) return def->macs(g, op);
  // Unknown custom ops cost nothing osprey can count; other ops one per output element.
  if (!def && op.code == static_cast<int32_t>(OpCode::kCustom)) return 0;
  return g.tensors[static_cast<size_t>(op.outputs[0])].num_elements();
}

}  // namespace osprey
