// int8/uint8 PADs whose fill is their input's zero point (a PAD, or a PADV2
// whose value is that), over height, width and channels of a 4D tensor.
// Those of height and width alone, osprey's int8 convolutions take into their
// own padding: the zero point is the value the int8 kernels read for a tap in
// the padding (int8_microkernels.h), so the convolution reads the PAD's input
// and the padded copy is never made. The others, make_int8_pad
// (int8_kernels.h) copies.
#pragma once

#include "graph/graph.h"

namespace osprey {

struct Int8SpatialPad {
  int source = -1;  // the PAD's input tensor
  int top = 0, bottom = 0, left = 0, right = 0;
};

struct Int8ZeroPointPad : Int8SpatialPad {
  int channels_before = 0, channels_after = 0;
};

// Whether `op` is such a PAD over a 4D int8 or uint8 tensor, with input and
// output quantized alike; `pad` says what it reads and how much it adds.
bool int8_zero_point_pad(const Graph& graph, const Op& op, Int8ZeroPointPad& pad);
// The same, without channel pads.
bool int8_spatial_pad(const Graph& graph, const Op& op, Int8SpatialPad& pad);

}  // namespace osprey
