// Cross-layer equalization (Nagel et al., "Data-Free Quantization Through
// Weight Equalization and Bias Correction", 2019) of a float graph, for
// per-tensor weights: a depthwise convolution whose channels have weights
// of very different sizes quantizes badly with one scale for all of them.
// Where a DEPTHWISE_CONV_2D (depth multiplier 1, no activation or RELU) feeds
// only a CONV_2D, channel c of the depthwise weights and bias is divided by
// s_c and input channel c of the convolution's weights multiplied by it, with
// s_c = sqrt(r1_c / r2_c) (r: the channel's largest |weight| in each): both
// then have the range sqrt(r1_c * r2_c). RELU(x / s) = RELU(x) / s for s > 0,
// so the graph computes the same outputs within float rounding.
#pragma once

#include "graph/graph.h"

namespace osprey::quant {

// Rescales every such pair of `graph` (its constants must be its own: a
// live_graph); a bias shared with other ops is copied first. The depthwise
// outputs are renamed NAME/equalized, since their values change. Returns the
// number of pairs.
int equalize_depthwise_pairs(Graph& graph);

}  // namespace osprey::quant
