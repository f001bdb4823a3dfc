// Constant folding at import: nodes whose inputs are all known (shape
// arithmetic such as Shape → Gather → Cast → Unsqueeze → Concat → Reshape,
// and Constant nodes) are computed here instead of becoming ops.
#pragma once

#include <set>
#include <string>

#include "onnx/builder.h"

namespace osprey::onnx {

// True when `node` was folded into constants; false when it must be converted.
bool try_fold(Builder& b, const Node& node);

// Ops that exist only as constant computations in osprey (no runtime op).
const std::set<std::string>& fold_only_ops();
bool is_fold_only(const std::string& op_type);

}  // namespace osprey::onnx
