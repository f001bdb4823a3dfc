// Each kernel family of the reference backend registers its ops here.
#pragma once

#include "kernels/op_resolver.h"

namespace osprey::ref {

void register_conv_kernels(OpResolver& r);         // conv.cpp: conv, depthwise, transpose conv, FC, pooling
void register_elementwise_kernels(OpResolver& r);  // elementwise.cpp: arithmetic with broadcasting, PRELU
void register_activation_kernels(OpResolver& r);   // elementwise_activation.cpp: RELU.., LOGISTIC, SOFTMAX
void register_quantize_kernels(OpResolver& r);     // quantize.cpp: QUANTIZE, DEQUANTIZE
void register_densify_kernels(OpResolver& r);      // densify.cpp
void register_layout_kernels(OpResolver& r);       // layout.cpp: reshape, concat, split, pad, transpose, ...
void register_slice_kernels(OpResolver& r);        // slice.cpp: STRIDED_SLICE
void register_resize_kernels(OpResolver& r);       // resize.cpp: bilinear, nearest
void register_reduce_kernels(OpResolver& r);       // reduce.cpp: MEAN, SUM, REDUCE_MAX
void register_quantized_kernels(OpResolver& r);    // quantized/: integer versions

}  // namespace osprey::ref
