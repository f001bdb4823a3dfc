// Integer reference kernels (placeholder until the quantized family lands).
#include "kernels/ref/register.h"

namespace osprey::ref {
void register_quantized_kernels(OpResolver&) {}
}  // namespace osprey::ref
