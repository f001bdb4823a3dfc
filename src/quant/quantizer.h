// Post-training full-integer quantization of a float graph.
//
//   1. prepare_float_graph: the folded float graph (fp16 and sparse weights are
//      already float32 constants) minus the folded ops, with MediaPipe's
//      Convolution2DTransposeBias rewritten as a builtin TRANSPOSE_CONV with a
//      bias input, and RELU/RELU6/RELU_N1_TO_1 fused into a producing
//      CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED/ADD/SUB/MUL.
//   2. calibration of that graph (calibration.h).
//   3. quantize_graph: int8 activations (per-tensor, asymmetric) and weights
//      (symmetric, per-tensor or per output channel), int32 bias; fixed
//      output parameters for LOGISTIC/SOFTMAX (1/256, -128) and TANH (1/128,
//      0); one set of parameters for the inputs and output of ops that move
//      values without rescaling them (pooling, reshapes, PAD, resize,
//      CONCATENATION, MAXIMUM/MINIMUM), with a requantizing QUANTIZE inserted
//      where a fixed-parameter tensor feeds such a group; uint8, int8 or float
//      model inputs/outputs through QUANTIZE/DEQUANTIZE; outputs the task
//      head clamps (QuantizeOptions::output_bounds) ranged within the clamp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "graph/graph.h"
#include "quant/calibration.h"
#include "quant/params.h"
#include "vision/heads/head.h"

namespace osprey::quant {

enum class Granularity { kPerTensor, kPerChannel };
enum class IoType { kUInt8, kInt8, kFloat };

Granularity parse_granularity(const std::string& name);
IoType parse_io_type(const std::string& name);
const char* granularity_name(Granularity g);
const char* io_type_name(IoType t);

struct QuantizeOptions {
  Granularity granularity = Granularity::kPerChannel;
  IoType io = IoType::kUInt8;
  CalibrationMethod method = CalibrationMethod::kMinMax;
  double percentile = 99.99;  // for kPercentile
  // Keep ops without an integer kernel in float between DEQUANTIZE/QUANTIZE
  // (the model is then not full-integer); otherwise such ops are an error.
  bool allow_float_ops = false;
  // When the model input is an image normalised to [lo, hi], the input scale
  // is nudged so that no pixel value falls on a rounding tie when a runtime
  // quantizes float input (runtimes round ties differently).
  std::optional<vision::Normalization> image_input;
  // Outputs the model's task head clamps (by output index): their ranges stop
  // at the clamp, so a far tail of the calibration does not coarsen the scale.
  std::vector<vision::OutputBound> output_bounds;
  // The backend stack (backends/backend.h) that runs the float model on the
  // calibration samples; "ref" (the reference kernels) is the oracle.
  std::string backend = kDefaultBackend;
  int threads = 0;  // 0: one per core
  // Cross-layer equalization before calibration (prepare_float_graph).
  bool equalize = false;
};

struct PreparedGraph {
  Graph graph;
  std::vector<std::string> notes;  // rewrites done ("fused 17 RELU into their producers", ...)
  int equalized_pairs = 0;         // with `equalize`
};

// Step 1. `folded` is an Interpreter's graph (shapes known, folded constants).
// `equalize`: cross-layer equalization of depthwise/convolution pairs too
// (equalize.h), for per-tensor weights.
PreparedGraph prepare_float_graph(const Graph& folded, bool equalize = false);

struct QuantizedGraph {
  Graph graph;
  std::vector<std::string> notes;      // decisions worth reporting
  std::vector<std::string> float_ops;  // ops kept in float (hybrid)
  int requantize_ops = 0;              // QUANTIZE ops inserted inside the graph
  // By tensor of the prepared graph: > 0 where the range was clipped to
  // +-limit (LOGISTIC/TANH saturation, a head's clamp), whatever calibration saw.
  std::vector<float> range_limits;
};

// Step 3. `prepared` must be the graph `calibrator` observed.
QuantizedGraph quantize_graph(const Graph& prepared, const Calibrator& calibrator,
                              const QuantizeOptions& options);

// Ops quantize_graph can give integer form, by TFLite builtin code.
bool has_integer_form(int32_t code);

}  // namespace osprey::quant
