// Each kernel family of the reference backend registers its ops here.
#pragma once

#include "kernels/op_resolver.h"

namespace osprey::ref {

void register_conv_kernels(OpResolver& r);         // conv.cpp, depthwise, transpose conv, FC, pooling
void register_elementwise_kernels(OpResolver& r);  // arithmetic, activations, (de)quantize, densify
void register_layout_kernels(OpResolver& r);       // reshape, concat, slice, pad, resize, mean, ...
void register_quantized_kernels(OpResolver& r);    // integer (int8/uint8) versions, quantized/*.cpp

}  // namespace osprey::ref
