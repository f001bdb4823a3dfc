// Reference convolution-family kernels (placeholder until the family lands).
#include "kernels/ref/register.h"

namespace osprey::ref {
void register_conv_kernels(OpResolver&) {}
}  // namespace osprey::ref
