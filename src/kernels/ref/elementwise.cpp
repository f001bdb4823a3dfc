// Reference elementwise kernels (placeholder until the family lands).
#include "kernels/ref/register.h"

namespace osprey::ref {
void register_elementwise_kernels(OpResolver&) {}
}  // namespace osprey::ref
