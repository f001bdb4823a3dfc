#include "model/writer.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "core/error.h"
#include "model/tflite_schema_generated.h"

namespace osprey {

namespace {

namespace fb = flatbuffers;

tfl::ActivationFunctionType act(Activation a) {
  return static_cast<tfl::ActivationFunctionType>(a);
}
tfl::Padding pad(Padding p) {
  return static_cast<tfl::Padding>(p);
}

bool has_type(const Graph& g, const std::vector<int>& tensors, DType type) {
  for (int t : tensors) {
    if (t >= 0 && g.tensors[static_cast<size_t>(t)].type == type) return true;
  }
  return false;
}

// Ops whose TFLite options table is empty or absent: a monostate is complete.
bool options_free(int32_t code) {
  switch (static_cast<OpCode>(code)) {
    case OpCode::kDequantize:
    case OpCode::kQuantize:
    case OpCode::kLogistic:
    case OpCode::kTanh:
    case OpCode::kRelu:
    case OpCode::kRelu6:
    case OpCode::kReluN1To1:
    case OpCode::kHardSwish:
    case OpCode::kPrelu:
    case OpCode::kMaximum:
    case OpCode::kMinimum:
    case OpCode::kPad:
    case OpCode::kTranspose:
    case OpCode::kExpandDims:
    case OpCode::kDensify:
    case OpCode::kReshape:
    case OpCode::kCustom: return true;
    default: break;
  }
  // PADV2 60, SLICE 65, FLOOR 8, EXP 47, ABS 101, NEG 59, SQRT 75, RSQRT 76, SQUARE 92, SIN 66, COS 108, LOG
  // 73 (all option-free) and the ops osprey parses options for.
  switch (code) {
    case 60:
    case 65:
    case 8:
    case 47:
    case 101:
    case 59:
    case 75:
    case 76:
    case 92:
    case 66:
    case 108:
    case 73: return true;
    default: return false;
  }
}

class Writer {
 public:
  Writer(const Graph& graph, const WriterOptions& options) : g_(graph), options_(options) {}

  std::vector<uint8_t> write() {
    collect_tensors();
    buffers_.push_back(tfl::CreateBuffer(b_));  // buffer 0: the empty sentinel
    std::vector<fb::Offset<tfl::Tensor>> tensors;
    for (int t : used_) tensors.push_back(write_tensor(t));
    std::vector<fb::Offset<tfl::Operator>> ops;
    for (const Op& op : g_.ops) ops.push_back(write_op(op));
    std::vector<int32_t> inputs, outputs;
    for (int t : g_.inputs) inputs.push_back(remap(t));
    for (int t : g_.outputs) outputs.push_back(remap(t));
    auto subgraph =
        tfl::CreateSubGraph(b_, b_.CreateVector(tensors), b_.CreateVector(inputs), b_.CreateVector(outputs),
                            b_.CreateVector(ops), b_.CreateString("main"));
    std::vector<fb::Offset<tfl::SubGraph>> subgraphs{subgraph};

    std::vector<fb::Offset<tfl::Metadata>> metadata;
    for (const auto& [name, bytes] : options_.metadata) {
      const uint32_t index = static_cast<uint32_t>(buffers_.size());
      b_.ForceVectorAlignment(bytes.size(), sizeof(uint8_t), 16);
      auto data = b_.CreateVector(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      buffers_.push_back(tfl::CreateBuffer(b_, data));
      metadata.push_back(tfl::CreateMetadata(b_, b_.CreateString(name), index));
    }
    std::vector<fb::Offset<tfl::OperatorCode>> codes;
    for (const auto& [key, index] : code_order_) {
      (void)index;
      const auto& [code, custom, version] = key;
      const int8_t deprecated = static_cast<int8_t>(std::min<int32_t>(code, 127));
      codes.push_back(tfl::CreateOperatorCode(b_, deprecated, custom.empty() ? 0 : b_.CreateString(custom),
                                              version, static_cast<tfl::BuiltinOperator>(code)));
    }
    // operator_codes must follow the indices ops refer to.
    std::vector<fb::Offset<tfl::OperatorCode>> ordered(codes.size());
    size_t k = 0;
    for (const auto& [key, index] : code_order_) ordered[index] = codes[k++];

    auto model = tfl::CreateModel(b_, 3, b_.CreateVector(ordered), b_.CreateVector(subgraphs),
                                  b_.CreateString(options_.description), b_.CreateVector(buffers_), 0,
                                  metadata.empty() ? 0 : b_.CreateVector(metadata));
    tfl::FinishModelBuffer(b_, model);
    return std::vector<uint8_t>(b_.GetBufferPointer(), b_.GetBufferPointer() + b_.GetSize());
  }

 private:
  void collect_tensors() {
    std::vector<char> used(g_.tensors.size(), 0);
    auto mark = [&](int t) {
      OSPREY_CHECK(t >= -1 && t < static_cast<int>(g_.tensors.size()), "tensor index {} out of range", t);
      if (t >= 0) used[static_cast<size_t>(t)] = 1;
    };
    for (const Op& op : g_.ops) {
      for (int t : op.inputs) mark(t);
      for (int t : op.outputs) mark(t);
    }
    for (int t : g_.inputs) mark(t);
    for (int t : g_.outputs) mark(t);
    remap_.assign(g_.tensors.size(), -1);
    for (size_t t = 0; t < g_.tensors.size(); ++t) {
      if (!used[t]) continue;
      remap_[t] = static_cast<int>(used_.size());
      used_.push_back(static_cast<int>(t));
    }
  }

  int32_t remap(int t) const { return t < 0 ? -1 : remap_[static_cast<size_t>(t)]; }

  fb::Offset<tfl::Tensor> write_tensor(int index) {
    const Tensor& t = g_.tensors[static_cast<size_t>(index)];
    const std::string who = fmt::format("tensor {} '{}'", index, t.name);
    OSPREY_CHECK(t.sparsity == nullptr, "{}: sparse tensors cannot be written (densify first)", who);
    uint32_t buffer = 0;
    if (t.is_constant) {
      OSPREY_CHECK(t.data != nullptr || t.num_bytes() == 0, "{}: constant without data", who);
      buffer = static_cast<uint32_t>(buffers_.size());
      b_.ForceVectorAlignment(t.num_bytes(), sizeof(uint8_t), 16);
      auto data = b_.CreateVector(t.data, t.num_bytes());
      buffers_.push_back(tfl::CreateBuffer(b_, data));
    }
    fb::Offset<tfl::QuantizationParameters> quant = 0;
    if (!t.quant.empty()) {
      std::vector<int64_t> zp = t.quant.zero_point;
      if (zp.empty()) zp.assign(t.quant.scale.size(), 0);
      quant = tfl::CreateQuantizationParameters(b_, 0, 0, b_.CreateVector(t.quant.scale), b_.CreateVector(zp),
                                                tfl::QuantizationDetails::NONE, 0,
                                                t.quant.per_channel() ? t.quant.axis : 0);
    }
    std::vector<int32_t> shape(t.shape.begin(), t.shape.end());
    return tfl::CreateTensor(b_, b_.CreateVector(shape), static_cast<tfl::TensorType>(t.type), buffer,
                             b_.CreateString(t.name), quant);
  }

  uint32_t code_index(const Op& op) {
    const auto key =
        std::make_tuple(op.code, op.code == static_cast<int32_t>(OpCode::kCustom) ? op.custom_code : "",
                        tflite_op_version(g_, op));
    auto it = code_order_.find(key);
    if (it != code_order_.end()) return it->second;
    const uint32_t index = static_cast<uint32_t>(code_order_.size());
    code_order_.emplace(key, index);
    return index;
  }

  fb::Offset<tfl::Operator> write_op(const Op& op) {
    const std::string who = fmt::format("op #{} {}", op.index, op.name());
    std::vector<int32_t> inputs, outputs;
    for (int t : op.inputs) inputs.push_back(remap(t));
    for (int t : op.outputs) outputs.push_back(remap(t));
    auto [type, options] = write_options(op, who);
    fb::Offset<fb::Vector<uint8_t>> custom = 0;
    if (op.code == static_cast<int32_t>(OpCode::kCustom) && !op.custom_options.empty()) {
      custom = b_.CreateVector(op.custom_options);
    }
    return tfl::CreateOperator(b_, code_index(op), b_.CreateVector(inputs), b_.CreateVector(outputs), type,
                               options, custom);
  }

  std::pair<tfl::BuiltinOptions, fb::Offset<void>> write_options(const Op& op, const std::string& who) {
    using BO = tfl::BuiltinOptions;
    const auto code = static_cast<OpCode>(op.code);
    if (const auto* o = std::get_if<Conv2DOptions>(&op.options)) {
      return {BO::Conv2DOptions, tfl::CreateConv2DOptions(b_, pad(o->padding), o->stride_w, o->stride_h,
                                                          act(o->activation), o->dilation_w, o->dilation_h)
                                     .Union()};
    }
    if (const auto* o = std::get_if<DepthwiseConv2DOptions>(&op.options)) {
      return {BO::DepthwiseConv2DOptions,
              tfl::CreateDepthwiseConv2DOptions(b_, pad(o->padding), o->stride_w, o->stride_h,
                                                o->depth_multiplier, act(o->activation), o->dilation_w,
                                                o->dilation_h)
                  .Union()};
    }
    if (const auto* o = std::get_if<TransposeConvOptions>(&op.options)) {
      return {BO::TransposeConvOptions, tfl::CreateTransposeConvOptions(b_, pad(o->padding), o->stride_w,
                                                                        o->stride_h, act(o->activation))
                                            .Union()};
    }
    if (const auto* o = std::get_if<Pool2DOptions>(&op.options)) {
      return {BO::Pool2DOptions, tfl::CreatePool2DOptions(b_, pad(o->padding), o->stride_w, o->stride_h,
                                                          o->filter_w, o->filter_h, act(o->activation))
                                     .Union()};
    }
    if (const auto* o = std::get_if<FullyConnectedOptions>(&op.options)) {
      return {BO::FullyConnectedOptions,
              tfl::CreateFullyConnectedOptions(
                  b_, act(o->activation), tfl::FullyConnectedOptionsWeightsFormat::DEFAULT, o->keep_num_dims)
                  .Union()};
    }
    if (const auto* o = std::get_if<ElementwiseOptions>(&op.options)) {
      switch (code) {
        case OpCode::kAdd: return {BO::AddOptions, tfl::CreateAddOptions(b_, act(o->activation)).Union()};
        case OpCode::kSub: return {BO::SubOptions, tfl::CreateSubOptions(b_, act(o->activation)).Union()};
        case OpCode::kMul: return {BO::MulOptions, tfl::CreateMulOptions(b_, act(o->activation)).Union()};
        case OpCode::kDiv: return {BO::DivOptions, tfl::CreateDivOptions(b_, act(o->activation)).Union()};
        default: fail("{}: elementwise options on an unexpected op", who);
      }
    }
    if (const auto* o = std::get_if<ConcatenationOptions>(&op.options)) {
      return {BO::ConcatenationOptions,
              tfl::CreateConcatenationOptions(b_, o->axis, act(o->activation)).Union()};
    }
    if (const auto* o = std::get_if<SoftmaxOptions>(&op.options)) {
      return {BO::SoftmaxOptions, tfl::CreateSoftmaxOptions(b_, o->beta).Union()};
    }
    if (const auto* o = std::get_if<ResizeOptions>(&op.options)) {
      if (code == OpCode::kResizeBilinear) {
        return {BO::ResizeBilinearOptions,
                tfl::CreateResizeBilinearOptions(b_, o->align_corners, o->half_pixel_centers).Union()};
      }
      return {BO::ResizeNearestNeighborOptions,
              tfl::CreateResizeNearestNeighborOptions(b_, o->align_corners, o->half_pixel_centers).Union()};
    }
    if (const auto* o = std::get_if<ReshapeOptions>(&op.options)) {
      if (!o->has_new_shape) return {BO::NONE, 0};
      return {BO::ReshapeOptions, tfl::CreateReshapeOptions(b_, b_.CreateVector(o->new_shape)).Union()};
    }
    if (const auto* o = std::get_if<ReducerOptions>(&op.options)) {
      return {BO::ReducerOptions, tfl::CreateReducerOptions(b_, o->keep_dims).Union()};
    }
    if (const auto* o = std::get_if<SqueezeOptions>(&op.options)) {
      return {BO::SqueezeOptions, tfl::CreateSqueezeOptions(b_, b_.CreateVector(o->squeeze_dims)).Union()};
    }
    if (const auto* o = std::get_if<StridedSliceOptions>(&op.options)) {
      return {BO::StridedSliceOptions,
              tfl::CreateStridedSliceOptions(b_, o->begin_mask, o->end_mask, o->ellipsis_mask,
                                             o->new_axis_mask, o->shrink_axis_mask, o->offset)
                  .Union()};
    }
    if (const auto* o = std::get_if<SplitOptions>(&op.options)) {
      return {BO::SplitOptions, tfl::CreateSplitOptions(b_, o->num_splits).Union()};
    }
    if (const auto* o = std::get_if<DepthToSpaceOptions>(&op.options)) {
      return {BO::DepthToSpaceOptions, tfl::CreateDepthToSpaceOptions(b_, o->block_size).Union()};
    }
    if (const auto* o = std::get_if<LeakyReluOptions>(&op.options)) {
      return {BO::LeakyReluOptions, tfl::CreateLeakyReluOptions(b_, o->alpha).Union()};
    }
    if (const auto* o = std::get_if<GatherOptions>(&op.options)) {
      return {BO::GatherOptions, tfl::CreateGatherOptions(b_, o->axis, o->batch_dims).Union()};
    }
    // Monostate: fine for ops without options; the rest would lose what the loader dropped.
    OSPREY_CHECK(options_free(op.code), "{}: osprey does not keep this op's options, so it cannot write it",
                 who);
    switch (code) {
      case OpCode::kQuantize: return {BO::QuantizeOptions, tfl::CreateQuantizeOptions(b_).Union()};
      case OpCode::kDequantize: return {BO::DequantizeOptions, tfl::CreateDequantizeOptions(b_).Union()};
      case OpCode::kPad: return {BO::PadOptions, tfl::CreatePadOptions(b_).Union()};
      case OpCode::kHardSwish: return {BO::HardSwishOptions, tfl::CreateHardSwishOptions(b_).Union()};
      case OpCode::kMaximum:
      case OpCode::kMinimum: return {BO::MaximumMinimumOptions, tfl::CreateMaximumMinimumOptions(b_).Union()};
      case OpCode::kTranspose: return {BO::TransposeOptions, tfl::CreateTransposeOptions(b_).Union()};
      case OpCode::kExpandDims: return {BO::ExpandDimsOptions, tfl::CreateExpandDimsOptions(b_).Union()};
      default: return {BO::NONE, 0};
    }
  }

  const Graph& g_;
  const WriterOptions& options_;
  fb::FlatBufferBuilder b_{1 << 20};
  std::vector<fb::Offset<tfl::Buffer>> buffers_;
  std::vector<int> used_;   // written tensors, by original index
  std::vector<int> remap_;  // original index -> written index
  std::map<std::tuple<int32_t, std::string, int>, uint32_t> code_order_;
};

}  // namespace

int tflite_op_version(const Graph& g, const Op& op) {
  const bool int8 = has_type(g, op.inputs, DType::kInt8) || has_type(g, op.outputs, DType::kInt8);
  const bool int16 = has_type(g, op.inputs, DType::kInt16) || has_type(g, op.outputs, DType::kInt16);
  int v = 1;
  switch (static_cast<OpCode>(op.code)) {
    case OpCode::kConv2D:
    case OpCode::kDepthwiseConv2D:
      if (int8) v = 3;
      break;
    case OpCode::kFullyConnected:
      if (int8) v = 4;
      if (int8 && std::holds_alternative<FullyConnectedOptions>(op.options) &&
          std::get<FullyConnectedOptions>(op.options).keep_num_dims)
        v = 5;
      break;
    case OpCode::kTransposeConv:
      if (int8) v = 2;
      if (op.inputs.size() > 3 && op.inputs[3] >= 0) v = 3;
      if (std::holds_alternative<TransposeConvOptions>(op.options) &&
          std::get<TransposeConvOptions>(op.options).activation != Activation::kNone)
        v = 4;
      break;
    case OpCode::kResizeBilinear:
    case OpCode::kResizeNearestNeighbor:
      if (int8) v = 2;
      if (std::holds_alternative<ResizeOptions>(op.options) &&
          std::get<ResizeOptions>(op.options).half_pixel_centers)
        v = 3;
      break;
    case OpCode::kDequantize:
      if (int8) v = 2;
      if (has_type(g, op.inputs, DType::kFloat16)) v = 3;
      break;
    case OpCode::kAdd:
    case OpCode::kSub:
    case OpCode::kMul:
    case OpCode::kAveragePool2D:
    case OpCode::kMaxPool2D:
    case OpCode::kConcatenation:
    case OpCode::kPad:
    case OpCode::kLogistic:
    case OpCode::kSoftmax:
    case OpCode::kTanh:
    case OpCode::kRelu:
    case OpCode::kRelu6:
    case OpCode::kQuantize:
    case OpCode::kMean:
    case OpCode::kStridedSlice:
    case OpCode::kMaximum:
    case OpCode::kMinimum:
    case OpCode::kDepthToSpace:
    case OpCode::kTranspose:
    case OpCode::kGather:
    case OpCode::kSplit:
    case OpCode::kLeakyRelu:
      if (int8) v = 2;
      break;
    default: break;
  }
  // PRELU and RELU_N1_TO_1 have a single version (TFLite registers no others).
  if (op.code == static_cast<int32_t>(OpCode::kPrelu) || op.code == static_cast<int32_t>(OpCode::kReluN1To1))
    return 1;
  if (int16 && v < 3) v = 3;
  return std::max(v, op.version);
}

std::vector<uint8_t> write_tflite(const Graph& graph, const WriterOptions& options) {
  return Writer(graph, options).write();
}

}  // namespace osprey
