// PADs that osprey's int8 convolutions take into their own padding: a PAD
// (or PADV2) of height and width whose fill is its input's zero point, the
// value the int8 kernels read for a tap in the padding (int8_microkernels.h).
// The convolution then reads the PAD's input, and the padded copy is never made.
#pragma once

#include "graph/graph.h"

namespace osprey {

struct Int8SpatialPad {
  int source = -1;  // the PAD's input tensor
  int top = 0, bottom = 0, left = 0, right = 0;
};

// Whether `op` is such a PAD over a 4D int8 or uint8 tensor, with input and
// output quantized alike; `pad` says what it reads and how much it adds.
bool int8_spatial_pad(const Graph& graph, const Op& op, Int8SpatialPad& pad);

}  // namespace osprey
