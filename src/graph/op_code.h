// Operator codes, numbered as TFLite's BuiltinOperator enum.
#pragma once

#include <cstdint>
#include <string>

namespace osprey {

enum class OpCode : int32_t {
  kAdd = 0,
  kAveragePool2D = 1,
  kConcatenation = 2,
  kConv2D = 3,
  kDepthwiseConv2D = 4,
  kDepthToSpace = 5,
  kDequantize = 6,
  kFullyConnected = 9,
  kLogistic = 14,
  kMaxPool2D = 17,
  kMul = 18,
  kRelu = 19,
  kReluN1To1 = 20,
  kRelu6 = 21,
  kReshape = 22,
  kResizeBilinear = 23,
  kSoftmax = 25,
  kTanh = 28,
  kCustom = 32,
  kPad = 34,
  kGather = 36,
  kTranspose = 39,
  kMean = 40,
  kSub = 41,
  kDiv = 42,
  kSqueeze = 43,
  kStridedSlice = 45,
  kSplit = 49,
  kPrelu = 54,
  kMaximum = 55,
  kMinimum = 57,
  kPadV2 = 60,
  kTransposeConv = 67,
  kExpandDims = 70,
  kSum = 74,
  kSqrt = 75,
  kReduceMax = 82,
  kResizeNearestNeighbor = 97,
  kLeakyRelu = 98,
  kSquaredDifference = 99,
  kQuantize = 114,
  kHardSwish = 117,
  kDensify = 124,
  kBatchMatMul = 126,
};

// "CONV_2D" (the op registry's name, else the format's), or "OP_123" for a code neither names.
std::string op_code_name(int32_t code);

}  // namespace osprey
