// One converter per supported ONNX op type: it reads the node's inputs from the
// Builder (choosing each one's layout), adds osprey ops and defines the node's
// outputs. The families live in convert_conv.cpp, convert_math.cpp and
// convert_layout.cpp.
#pragma once

#include <map>
#include <string>

#include "onnx/builder.h"

namespace osprey::onnx {

using Converter = void (*)(Builder& b, const Node& node);
using ConverterTable = std::map<std::string, Converter>;

void add_conv_converters(ConverterTable& table);
void add_math_converters(ConverterTable& table);
void add_layout_converters(ConverterTable& table);

// Every supported op type (ops that only fold, like Shape, are not listed).
const ConverterTable& converters();

// Fuses a sole Relu / Clip(0,6) / Clip(-1,1) consumer of `output` into the op
// that makes it: returns the activation and renames `output` to the fused node's output.
Activation fuse_activation(Builder& b, std::string& output);

// Clip's bounds (attributes before opset 11, optional constant inputs after).
std::pair<float, float> clip_bounds(Builder& b, const Node& node);

}  // namespace osprey::onnx
