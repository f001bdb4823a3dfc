// Seeded random tensor contents, as `larod-client -i ''` feeds a model:
// floats uniform in [-1, 1], integers over their whole range.
#pragma once

#include <random>

#include "graph/tensor.h"

namespace osprey {

void fill_random(Tensor& tensor, std::mt19937& rng);

}  // namespace osprey
