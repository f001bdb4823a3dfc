// Integer (int8/uint8) reference kernels. The resolver runs these instead of
// the float kernels when an op's output 0 is an integer tensor.
//
// Ops whose float kernels already move int8/uint8 bytes correctly are not
// registered again: RESHAPE, SQUEEZE, EXPAND_DIMS, CONCATENATION (equal
// parameters for int8, as TFLite requires; uint8 rescales), PAD/PADV2 (pads
// with the zero point), TRANSPOSE, DEPTH_TO_SPACE, GATHER, SPLIT,
// STRIDED_SLICE, RESIZE_NEAREST_NEIGHBOR, MAXIMUM/MINIMUM, REDUCE_MAX, QUANTIZE, DEQUANTIZE.
#include "kernels/ref/register.h"

namespace osprey::ref {

namespace quantized {
void register_quantized_conv_kernels(OpResolver& r);
void register_quantized_pool_kernels(OpResolver& r);
void register_quantized_elementwise_kernels(OpResolver& r);
void register_quantized_lut_kernels(OpResolver& r);
void register_quantized_resize_kernels(OpResolver& r);
}  // namespace quantized

void register_quantized_kernels(OpResolver& r) {
  quantized::register_quantized_conv_kernels(r);
  quantized::register_quantized_pool_kernels(r);
  quantized::register_quantized_elementwise_kernels(r);
  quantized::register_quantized_lut_kernels(r);
  quantized::register_quantized_resize_kernels(r);
}

}  // namespace osprey::ref
