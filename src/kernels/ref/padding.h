// Output size and leading padding of a windowed op (conv, pooling) along one axis,
// following TFLite: SAME gives ceil(in / stride), VALID ceil((in - window + 1) / stride),
// and SAME puts the smaller half of the padding before the data.
#pragma once

#include <algorithm>

#include "core/error.h"
#include "graph/options.h"

namespace osprey::ref {

struct WindowAxis {
  int out = 0;
  int pad_before = 0;
};

inline WindowAxis window_axis(int in, int filter, int stride, int dilation, Padding padding) {
  OSPREY_CHECK(in > 0 && filter > 0, "window of size {} over {} elements", filter, in);
  OSPREY_CHECK(stride > 0 && dilation > 0, "stride {} and dilation {} must be positive", stride, dilation);
  const int effective = (filter - 1) * dilation + 1;
  WindowAxis w;
  if (padding == Padding::kSame) {
    w.out = (in + stride - 1) / stride;
    const int total = std::max((w.out - 1) * stride + effective - in, 0);
    w.pad_before = total / 2;
  } else {
    OSPREY_CHECK(in >= effective, "window {} (dilated) is larger than input {} with VALID padding", effective,
                 in);
    w.out = (in - effective + stride) / stride;
    w.pad_before = 0;
  }
  return w;
}

}  // namespace osprey::ref
