// Writes a seeded random one-op int8 model for op_sweep_litert.mjs: uint8
// inputs [1, H, W, C] (a second one for binary ops, sometimes [1, 1, 1, C])
// moved to int8 by QUANTIZE ops that only shift the zero point by 128, the op
// with random scales, zero points, options and constants (weights, bias,
// PRELU's slopes), and its output moved back to uint8 (LiteRT.js takes no
// int8 inputs or outputs). Prints the inputs' shapes, one line each.
//   make_random_op_model OUT.tflite OP SEED [uint8|float]
// (uint8: the op on uint8 tensors, as in legacy per-tensor uint8 models;
// float: the same op and shapes on float32 tensors and constants, no
// QUANTIZE ops: the model-loader fuzzer's float seeds)
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "model/writer.h"
#include "op_model_maker.h"

namespace osprey {
namespace {

struct Params {
  float scale = 1;
  int zero_point = 0;  // int8
};

// What the op is: its code, options, output shape and parameters, and the
// constant inputs it takes after the activations.
struct OpCase {
  OpCode code{};
  OpOptions options;
  Shape out_shape;
  Params out;
  bool binary = false, broadcast = false;
  size_t constants_first = 0;  // how many constants come before the activations among the op's inputs
};

class RandomOp {
 public:
  // `uint8`: the op on uint8 tensors (legacy per-tensor uint8 models);
  // `float32`: on float ones; else on int8 ones.
  RandomOp(uint32_t seed, bool uint8, bool float32)
      : seed_(seed), uint8_(uint8), float_(float32), rng_(seed) {
    shape_ = {1, integer(1, 12), integer(1, 12), integer(1, 20)};
    in_ = {real(0.005f, 0.105f), integer(-128, 127)};
    in2_ = {real(0.005f, 0.105f), integer(-128, 127)};
  }

  std::vector<uint8_t> build(const std::string& name, std::vector<Shape>& input_shapes) {
    const auto kind = ops().find(name);
    OSPREY_CHECK(kind != ops().end(), "unknown op '{}'", name);
    OpCase c = kind->second(*this);
    Graph g;
    std::vector<int> op_inputs;
    // int8 values with zero point z are the uint8 ones with z + 128.
    const auto activation = [&](const Shape& shape, Params p) {
      if (float_) {
        g.tensors.push_back(
            plain(std::string("x").append(std::to_string(g.inputs.size())), DType::kFloat32, shape));
        g.inputs.push_back(static_cast<int>(g.tensors.size()) - 1);
        op_inputs.push_back(g.inputs.back());
        input_shapes.push_back(shape);
        return;
      }
      g.tensors.push_back(quantized(std::string("x").append(std::to_string(g.inputs.size())), DType::kUInt8,
                                    shape, p.scale, p.zero_point + 128));
      g.inputs.push_back(static_cast<int>(g.tensors.size()) - 1);
      if (!uint8_) {
        g.tensors.push_back(quantized("x_int8", DType::kInt8, shape, p.scale, p.zero_point));
        g.ops.push_back(op(OpCode::kQuantize, {g.inputs.back()}, static_cast<int>(g.tensors.size()) - 1));
      }
      op_inputs.push_back(static_cast<int>(g.tensors.size()) - 1);
      input_shapes.push_back(shape);
    };
    activation(shape_, in_);
    if (c.binary) activation(c.broadcast ? Shape{1, 1, 1, shape_[3]} : shape_, in2_);
    std::vector<int> constant_inputs;
    for (size_t i = 0; i < constants_.size(); ++i) {
      Tensor t = constants_[i];
      std::memcpy(g.allocate_constant(t), bytes_[i].data(), t.num_bytes());
      g.tensors.push_back(t);
      constant_inputs.push_back(static_cast<int>(g.tensors.size()) - 1);
    }
    op_inputs.insert(op_inputs.begin(), constant_inputs.begin(),
                     constant_inputs.begin() + static_cast<std::ptrdiff_t>(c.constants_first));
    op_inputs.insert(op_inputs.end(),
                     constant_inputs.begin() + static_cast<std::ptrdiff_t>(c.constants_first),
                     constant_inputs.end());
    const Tensor y = float_ ? plain("y", DType::kFloat32, c.out_shape)
                            : quantized("y", DType::kUInt8, c.out_shape, c.out.scale, c.out.zero_point + 128);
    g.tensors.push_back(
        uint8_ || float_ ? y : quantized("y_int8", DType::kInt8, c.out_shape, c.out.scale, c.out.zero_point));
    Op o = op(c.code, op_inputs, static_cast<int>(g.tensors.size()) - 1);
    o.options = c.options;
    g.ops.push_back(o);
    if (!uint8_ && !float_) {
      g.tensors.push_back(y);
      g.ops.push_back(op(OpCode::kQuantize, {o.outputs[0]}, static_cast<int>(g.tensors.size()) - 1));
    }
    g.outputs = {static_cast<int>(g.tensors.size()) - 1};
    return write_tflite(g);
  }

  static const std::map<std::string, std::function<OpCase(RandomOp&)>>& ops();

 private:
  int integer(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  float real(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng_); }
  Params random_params() { return {real(0.005f, 0.205f), integer(-128, 127)}; }

  static Tensor quantized(const std::string& name, DType type, Shape shape, float scale, int zero_point) {
    return op_tests::quantized_tensor(name, type, std::move(shape), scale, zero_point);
  }
  static Tensor plain(const std::string& name, DType type, Shape shape) {
    return op_tests::plain_tensor(name, type, std::move(shape));
  }
  static Op op(OpCode code, std::vector<int> inputs, int output) {
    return op_tests::make_op(code, std::move(inputs), output);
  }

  // A constant input of the op, its bytes filled by `fill`.
  template <typename T>
  void constant(Tensor t, const std::function<T()>& fill) {
    t.is_constant = true;
    std::vector<uint8_t> bytes(t.num_bytes());
    T* values = reinterpret_cast<T*>(bytes.data());
    for (int64_t i = 0; i < t.num_elements(); ++i) values[i] = fill();
    constants_.push_back(std::move(t));
    bytes_.push_back(std::move(bytes));
  }

  // The output size of a window op along one axis.
  static int windows(int size, int window, int stride, Padding padding) {
    return padding == Padding::kSame ? (size + stride - 1) / stride : (size - window) / stride + 1;
  }
  Padding padding_for(int window) {
    const bool fits = shape_[1] >= window && shape_[2] >= window;
    return fits && seed_ % 5 == 0 ? Padding::kValid : Padding::kSame;
  }

  OpCase same_params(OpCode code, OpOptions options = {}) { return {code, std::move(options), shape_, in_}; }
  OpCase unary(OpCode code, OpOptions options = {}) {
    return {code, std::move(options), shape_, random_params()};
  }
  OpCase fixed_output(OpCode code, Params out, OpOptions options = {}) {
    return {code, std::move(options), shape_, out};
  }

  OpCase binary(OpCode code, OpOptions options = {}) {
    OpCase c{code, std::move(options), shape_, random_params(), true, seed_ % 3 == 0};
    return c;
  }

  OpCase resize(OpCode code) {
    OpCase c = same_params(code, ResizeOptions{seed_ % 3 == 1, seed_ % 3 == 2});
    c.out_shape = {1, integer(1, 24), integer(1, 24), shape_[3]};
    constant<int32_t>(plain("size", DType::kInt32, {2}),
                      [&, i = 0]() mutable { return c.out_shape[1 + i++]; });
    return c;
  }

  // MAXIMUM and MINIMUM: both inputs and the output on one scale and zero point.
  OpCase same_params_binary(OpCode code) {
    in2_ = in_;
    OpCase c = binary(code);
    c.out = in_;
    return c;
  }

  OpCase pool(OpCode code) {
    Pool2DOptions p;
    p.filter_h = p.filter_w = integer(2, 3);
    p.stride_h = p.stride_w = integer(1, 2);
    p.padding = padding_for(p.filter_h);
    return {code, p,
            Shape{1, windows(shape_[1], p.filter_h, p.stride_h, p.padding),
                  windows(shape_[2], p.filter_w, p.stride_w, p.padding), shape_[3]},
            in_};
  }

  OpCase convolution(bool depthwise) {
    const int window = depthwise && seed_ % 3 == 0 ? 5 : seed_ % 4 == 0 ? 1 : 3, stride = seed_ % 2 ? 1 : 2;
    const Padding padding = padding_for(window);
    const int channels = depthwise ? shape_[3] : integer(1, 40);
    const Activation activation = seed_ % 3 == 0   ? Activation::kRelu6
                                  : seed_ % 3 == 1 ? Activation::kRelu
                                                   : Activation::kNone;
    OpCase c{depthwise ? OpCode::kDepthwiseConv2D : OpCode::kConv2D,
             {},
             Shape{1, windows(shape_[1], window, stride, padding),
                   windows(shape_[2], window, stride, padding), channels},
             random_params()};
    if (depthwise) {
      DepthwiseConv2DOptions o;
      o.padding = padding;
      o.stride_h = o.stride_w = stride;
      o.activation = activation;
      c.options = o;
    } else {
      Conv2DOptions o;
      o.padding = padding;
      o.stride_h = o.stride_w = stride;
      o.activation = activation;
      c.options = o;
    }
    weights_and_bias(
        depthwise ? Shape{1, window, window, channels} : Shape{channels, window, window, shape_[3]}, channels,
        depthwise ? 3 : 0, true);
    return c;
  }

  // TRANSPOSE_CONV's inputs: output_shape, weights [Cout, K, K, Cin], the
  // input, bias. Output sizes as TFLite's converter writes them: H * stride
  // (SAME) or (H - 1) * stride + K (VALID).
  OpCase transpose_convolution() {
    const int window = integer(1, 4), stride = integer(1, 2), channels = integer(1, 40);
    TransposeConvOptions o;
    o.padding = seed_ % 3 == 0 ? Padding::kValid : Padding::kSame;
    o.stride_h = o.stride_w = stride;
    o.activation = seed_ % 4 == 1 ? Activation::kRelu : Activation::kNone;
    const auto size = [&](int in) {
      return o.padding == Padding::kSame ? in * stride : (in - 1) * stride + window;
    };
    OpCase c{OpCode::kTransposeConv, o, Shape{1, size(shape_[1]), size(shape_[2]), channels},
             random_params()};
    c.constants_first = 2;
    constant<int32_t>(plain("output_shape", DType::kInt32, {4}),
                      [&, i = 0]() mutable { return c.out_shape[static_cast<size_t>(i++)]; });
    weights_and_bias(Shape{channels, window, window, shape_[3]}, channels, 0, true);
    return c;
  }

  // Rows of C inputs (the pixels) into 1-40 outputs; int8 weights per
  // tensor or (seed) per channel.
  OpCase fully_connected() {
    const int channels = integer(1, 40);
    FullyConnectedOptions o;
    o.activation = seed_ % 3 == 0 ? Activation::kRelu : Activation::kNone;
    OpCase c{OpCode::kFullyConnected, o, Shape{shape_[1] * shape_[2], channels}, random_params()};
    weights_and_bias(Shape{channels, shape_[3]}, channels, 0, seed_ % 4 == 0);
    return c;
  }

  // The op's weights and bias, as constants: int8 weights per channel
  // (`per_channel_allowed` and an even seed) or per tensor, symmetric;
  // uint8 ones per tensor around a zero point near 128; int32 bias at input
  // scale * weight scale.
  void weights_and_bias(Shape shape, int channels, int axis, bool per_channel_allowed) {
    if (float_) {
      constant<float>(plain("w", DType::kFloat32, std::move(shape)), [&] { return real(-1, 1); });
      constant<float>(plain("b", DType::kFloat32, {channels}), [&] { return real(-1, 1); });
      return;
    }
    Tensor w = quantized("w", uint8_ ? DType::kUInt8 : DType::kInt8, std::move(shape), 0, 0);
    w.quant.scale.assign(!uint8_ && per_channel_allowed && seed_ % 2 == 0 ? static_cast<size_t>(channels) : 1,
                         0);
    for (float& s : w.quant.scale) s = real(0.001f, 0.021f);
    w.quant.zero_point.assign(w.quant.scale.size(), uint8_ ? integer(118, 138) : 0);
    w.quant.axis = axis;
    Tensor b = plain("b", DType::kInt32, {channels});
    for (float s : w.quant.scale) b.quant.scale.push_back(s * in_.scale);
    b.quant.zero_point.assign(b.quant.scale.size(), 0);
    constant<int8_t>(std::move(w),
                     [&] { return static_cast<int8_t>(integer(-127, 127)); });  // as uint8: any byte
    constant<int32_t>(std::move(b), [&] { return integer(-20000, 20000); });
  }

  uint32_t seed_;
  bool uint8_, float_;
  std::mt19937 rng_;
  Shape shape_;
  Params in_, in2_;
  std::vector<Tensor> constants_;
  std::vector<std::vector<uint8_t>> bytes_;
};

const std::map<std::string, std::function<OpCase(RandomOp&)>>& RandomOp::ops() {
  static const std::map<std::string, std::function<OpCase(RandomOp&)>> table = {
      {"ADD",
       [](RandomOp& r) {
         return r.binary(OpCode::kAdd,
                         ElementwiseOptions{r.seed_ % 4 == 1 ? Activation::kRelu : Activation::kNone});
       }},
      {"SUB", [](RandomOp& r) { return r.binary(OpCode::kSub, ElementwiseOptions{}); }},
      {"MUL",
       [](RandomOp& r) {
         OpCase c = r.binary(OpCode::kMul, ElementwiseOptions{});
         c.out.scale = r.in_.scale * r.in2_.scale * r.real(0.5f, 100.5f);  // products' range
         return c;
       }},
      {"MAXIMUM", [](RandomOp& r) { return r.same_params_binary(OpCode::kMaximum); }},
      {"MINIMUM", [](RandomOp& r) { return r.same_params_binary(OpCode::kMinimum); }},
      {"LOGISTIC",
       [](RandomOp& r) {
         return r.fixed_output(OpCode::kLogistic, {1.0f / 256, -128});
       }},
      {"TANH",
       [](RandomOp& r) {
         return r.fixed_output(OpCode::kTanh, {1.0f / 128, 0});
       }},
      {"SOFTMAX",
       [](RandomOp& r) {
         return r.fixed_output(OpCode::kSoftmax, {1.0f / 256, -128},
                               SoftmaxOptions{r.seed_ % 2 ? 1.0f : r.real(0.5f, 1.5f)});
       }},
      {"HARD_SWISH", [](RandomOp& r) { return r.unary(OpCode::kHardSwish); }},
      {"RELU", [](RandomOp& r) { return r.unary(OpCode::kRelu); }},
      {"RELU6", [](RandomOp& r) { return r.unary(OpCode::kRelu6); }},
      {"LEAKY_RELU",
       [](RandomOp& r) { return r.unary(OpCode::kLeakyRelu, LeakyReluOptions{r.real(0.05f, 0.55f)}); }},
      {"PRELU",
       [](RandomOp& r) {
         OpCase c = r.unary(OpCode::kPrelu);
         if (r.float_) {
           r.constant<float>(plain("alpha", DType::kFloat32, {1, 1, r.shape_[3]}),
                             [&] { return r.real(-0.5f, 0.5f); });
           return c;
         }
         r.constant<int8_t>(quantized("alpha", r.uint8_ ? DType::kUInt8 : DType::kInt8, {1, 1, r.shape_[3]},
                                      r.real(0.002f, 0.022f), r.integer(-20, 20) + (r.uint8_ ? 128 : 0)),
                            [&] { return static_cast<int8_t>(r.integer(-128, 127)); });
         return c;
       }},
      {"AVERAGE_POOL_2D", [](RandomOp& r) { return r.pool(OpCode::kAveragePool2D); }},
      {"MAX_POOL_2D", [](RandomOp& r) { return r.pool(OpCode::kMaxPool2D); }},
      {"MEAN_CHANNELS",
       [](RandomOp& r) {
         OpCase c = r.unary(OpCode::kMean, ReducerOptions{true});
         c.out_shape[3] = 1;
         r.constant<int32_t>(plain("axes", DType::kInt32, {1}), [] { return 3; });
         return c;
       }},
      {"RESIZE_BILINEAR", [](RandomOp& r) { return r.resize(OpCode::kResizeBilinear); }},
      {"RESIZE_NEAREST_NEIGHBOR", [](RandomOp& r) { return r.resize(OpCode::kResizeNearestNeighbor); }},
      {"CONV_2D", [](RandomOp& r) { return r.convolution(false); }},
      {"DEPTHWISE_CONV_2D", [](RandomOp& r) { return r.convolution(true); }},
      {"FULLY_CONNECTED", [](RandomOp& r) { return r.fully_connected(); }},
      {"TRANSPOSE_CONV", [](RandomOp& r) { return r.transpose_convolution(); }},
  };
  return table;
}

}  // namespace
}  // namespace osprey

int main(int argc, char** argv) {
  const std::string type = argc == 5 ? argv[4] : "int8";
  if ((argc != 4 && argc != 5) || (type != "int8" && type != "uint8" && type != "float")) {
    std::string names;
    for (const auto& [name, make] : osprey::RandomOp::ops()) names.append(" ").append(name);
    std::fprintf(stderr, "usage: make_random_op_model OUT.tflite OP SEED [uint8|float]\nOP:%s\n",
                 names.c_str());
    return 2;
  }
  return osprey::op_tests::run_maker([&] {
    osprey::RandomOp random(static_cast<uint32_t>(std::stoul(argv[3])), type == "uint8", type == "float");
    std::vector<osprey::Shape> shapes;
    osprey::op_tests::write_file(argv[1], random.build(argv[2], shapes));
    for (const osprey::Shape& shape : shapes) {
      for (size_t i = 0; i < shape.size(); ++i) std::printf("%s%d", i ? " " : "", shape[i]);
      std::printf("\n");
    }
    return 0;
  });
}
