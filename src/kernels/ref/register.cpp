#include "kernels/ref/register.h"

namespace osprey {

const OpResolver& reference_op_resolver() {
  static const OpResolver resolver = [] {
    OpResolver r;
    ref::register_conv_kernels(r);
    ref::register_elementwise_kernels(r);
    ref::register_activation_kernels(r);
    ref::register_quantize_kernels(r);
    ref::register_densify_kernels(r);
    ref::register_layout_kernels(r);
    ref::register_slice_kernels(r);
    ref::register_resize_kernels(r);
    ref::register_reduce_kernels(r);
    ref::register_quantized_kernels(r);
    return r;
  }();
  return resolver;
}

}  // namespace osprey
