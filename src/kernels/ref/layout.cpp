// Reference layout kernels (placeholder until the family lands).
#include "kernels/ref/register.h"

namespace osprey::ref {
void register_layout_kernels(OpResolver&) {}
}  // namespace osprey::ref
