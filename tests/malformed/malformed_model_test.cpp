// Malformed models must fail with a one-line osprey::Error, never crash.
// Run under AddressSanitizer + UBSan in `make test`.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "backends/backend.h"
#include "runtime/interpreter.h"
#include "support/model_builder.h"

namespace osprey::testing {
namespace {

// Loads (and if it loads and `run`, runs) a model with `options`; returns
// the error text or "".
std::string try_load_with(const std::vector<uint8_t>& bytes, bool run, InterpreterOptions options) {
  options.guard_bytes = 64;  // a kernel that writes past its output fails the test
  try {
    auto interp = Interpreter::from_buffer(bytes, "m.tflite", options);
    if (run && interp->arena_bytes() < (size_t{64} << 20)) interp->invoke();
    return "";
  } catch (const KernelOverrun& e) {
    ADD_FAILURE() << "a kernel bug, not a rejection: " << e.what();
    return e.what();
  } catch (const Error& e) {
    return e.what();
  }
}

// The same on the reference kernels and on the default backend stack (what
// the tools and ospreyd run); both must agree on whether the model is bad.
std::string try_load(std::vector<uint8_t> bytes, bool run = true) {
  static const BackendStack backends = make_backends(kDefaultBackend, 1);
  const std::string ref = try_load_with(bytes, run, {});
  const std::string fast = try_load_with(bytes, run, backends.options());
  EXPECT_EQ(ref.empty(), fast.empty()) << "reference: '" << ref << "', default backends: '" << fast << "'";
  return ref;
}

// Integer models made by `osprey quantize` (tests/fuzz/make_quantized_seeds.sh).
std::vector<std::vector<uint8_t>> quantized_seeds() {
  std::vector<std::vector<uint8_t>> seeds;
  const char* dir = std::getenv("OSPREY_QUANTIZED_SEEDS");
  if (!dir || !std::filesystem::is_directory(dir)) return seeds;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".tflite") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    seeds.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return seeds;
}

void expect_error(const ModelSpec& spec, const std::string& fragment) {
  const std::string error = try_load(build_model(spec));
  EXPECT_NE(error.find(fragment), std::string::npos) << "error was: '" << error << "'";
  EXPECT_EQ(error.find('\n'), std::string::npos) << "error must be one line: " << error;
}

TEST(MalformedModel, TheBaseModelIsValid) {
  EXPECT_EQ(try_load(build_model(tiny_conv_model())), "");
}

TEST(MalformedModel, NotAFlatbuffer) {
  EXPECT_NE(try_load({1, 2, 3}).find("too short"), std::string::npos);
  std::vector<uint8_t> text(100, 'a');
  EXPECT_NE(try_load(text).find("not a TFLite model"), std::string::npos);
}

TEST(MalformedModel, EveryTruncationFails) {
  const std::vector<uint8_t> bytes = build_model(tiny_conv_model());
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_NE(try_load(cut), "") << "truncated to " << n << " bytes loaded";
  }
}

TEST(MalformedModel, OpcodeIndexOutOfRange) {
  ModelSpec m = tiny_conv_model();
  m.ops[1].opcode_index = 7;
  expect_error(m, "op #1: opcode index 7 out of range");
}

TEST(MalformedModel, TensorIndexOutOfRange) {
  ModelSpec m = tiny_conv_model();
  m.ops[0].inputs[1] = 42;
  expect_error(m, "op #0 CONV_2D: input 1 refers to tensor 42");
  m = tiny_conv_model();
  m.ops[1].outputs[0] = -1;
  expect_error(m, "output 0 refers to tensor -1");
  m = tiny_conv_model();
  m.outputs = {9};
  expect_error(m, "model output refers to tensor 9");
}

TEST(MalformedModel, OptionalInputOnlyWhereAllowed) {
  ModelSpec m = tiny_conv_model();
  m.ops[0].inputs[2] = -1;  // CONV_2D without bias is fine
  EXPECT_EQ(try_load(build_model(m)), "");
  m.ops[0].inputs[1] = -1;  // but not without weights
  expect_error(m, "op #0 CONV_2D:");
}

TEST(MalformedModel, BufferSizeMismatch) {
  ModelSpec m = tiny_conv_model();
  m.buffers[2].resize(8);
  expect_error(m, "tensor 2 'bias': buffer 2 holds 8 bytes, shape [4] float32 needs 16");
  m = tiny_conv_model();
  m.tensors[1].buffer = 17;
  expect_error(m, "buffer 17 is out of range");
}

TEST(MalformedModel, BadShapes) {
  ModelSpec m = tiny_conv_model();
  m.tensors[0].shape = {1, -5, 5, 2};
  expect_error(m, "tensor 0 'input': dimension 1 is -5");
  m = tiny_conv_model();
  m.tensors[3].shape = {65536, 65536, 65536, 4};
  expect_error(m, "more than 2^31 elements");
  m = tiny_conv_model();
  m.tensors[1].shape = {4, 3, 18};
  m.buffers[1].resize(4 * 3 * 18 * 4);
  expect_error(m, "op #0 CONV_2D: ");
}

TEST(MalformedModel, UnknownTypeAndOp) {
  ModelSpec m = tiny_conv_model();
  m.tensors[0].type = 5;  // STRING
  expect_error(m, "unsupported element type STRING");
  m = tiny_conv_model();
  m.tensors[0].type = 99;
  expect_error(m, "unsupported element type");
  m = tiny_conv_model();
  m.op_codes[1] = 150;  // GELU: no kernel
  expect_error(m, "op #1 GELU: not supported by osprey");
}

TEST(MalformedModel, Cycles) {
  ModelSpec m = tiny_conv_model();
  m.ops[0].inputs[0] = 4;  // conv reads the relu's output
  expect_error(m, "op #0 CONV_2D: input 0 (tensor 4 'output') is not computed before it");
  m = tiny_conv_model();
  m.ops[1].outputs[0] = 3;  // relu writes conv's output again
  expect_error(m, "already written");
}

// A uoffset moved 4 bytes on puts a tensor's int64 zero points off their
// 8-byte alignment, which the flatbuffers verifier does not check (a
// fuzzer's find): the loader must read them without a misaligned load
// (UBSan fails the test otherwise) and load or refuse the model.
TEST(MalformedModel, ZeroPointsOffTheirAlignment) {
  ModelSpec m = tiny_conv_model();
  // Low word 1: the moved vector's length; high word 7: half its one value.
  constexpr int64_t kMarker = (int64_t{7} << 32) | 1;
  m.tensors[4].scale = {0.5f};
  m.tensors[4].zero_point = {kMarker};
  std::vector<uint8_t> bytes = build_model(m);
  // The vector: its length 1, then the marker, 8-byte aligned.
  size_t vector = 0;
  for (size_t p = 0; p + 12 <= bytes.size(); p += 4) {
    uint32_t length;
    int64_t value;
    std::memcpy(&length, bytes.data() + p, 4);
    std::memcpy(&value, bytes.data() + p + 4, 8);
    if (length == 1 && value == kMarker) vector = p;
  }
  ASSERT_NE(vector, 0u) << "the zero-point vector was not found";
  ASSERT_EQ((vector + 4) % 8, 0u);
  // The field pointing at it (a uoffset: the vector less the field's
  // place): the builder writes back to front, so of the words that read so,
  // the quantization table written just after the vector is the nearest.
  size_t field = 0;
  for (size_t p = 0; p < vector; p += 4) {
    uint32_t offset;
    std::memcpy(&offset, bytes.data() + p, 4);
    if (p + offset == vector) field = p;
  }
  ASSERT_NE(field, 0u) << "no field points at the zero-point vector";
  const uint32_t moved = static_cast<uint32_t>(vector + 4 - field);
  std::memcpy(bytes.data() + field, &moved, 4);
  // It now holds one zero point, of the marker's high word and the 4 bytes
  // after it: the model loads or is refused, past the verifier either way.
  const std::string error = try_load(bytes);
  EXPECT_EQ(error.find("verifier rejected"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

// A uint8 (or float) model of one op on [1, 4] tensors, with these scales.
ModelSpec one_op_model(tfl::BuiltinOperator code, tfl::TensorType type, float in_scale, float out_scale,
                       BuiltinOptionsWriter options, int inputs = 1) {
  ModelBuilder m;
  std::vector<int32_t> in;
  for (int i = 0; i < inputs; ++i) in.push_back(m.activation({1, 4}, type));
  const int y = m.activation({1, 4}, type);
  m.op(code, in, {y}, std::move(options));
  m.output(y);
  ModelSpec spec = m.spec();
  if (type == tfl::TensorType::UINT8) {
    for (TensorSpec& t : spec.tensors) {
      t.scale = {&t == &spec.tensors[static_cast<size_t>(y)] ? out_scale : in_scale};
      t.zero_point = {128};
    }
  }
  return spec;
}

// Options and scales no requantization can use are refused with their
// reason, or load: never a NaN or an overflowing value converted to an
// integer (undefined; the model-loader fuzzer found a LEAKY_RELU whose alpha
// was NaN).
TEST(MalformedModel, NonFiniteOptionsAndOverflowingScaleRatios) {
  for (const float bad : {std::nanf(""), INFINITY}) {
    for (const auto type : {tfl::TensorType::UINT8, tfl::TensorType::FLOAT32}) {
      expect_error(one_op_model(tfl::BuiltinOperator::LEAKY_RELU, type, 0.5f, 0.5f,
                                [bad](flatbuffers::FlatBufferBuilder& b) {
                                  return std::make_pair(tfl::BuiltinOptions::LeakyReluOptions,
                                                        tfl::CreateLeakyReluOptions(b, bad).Union());
                                }),
                   "is not a finite number");
      expect_error(one_op_model(tfl::BuiltinOperator::SOFTMAX, type, 0.5f, 1.0f / 256,
                                [bad](flatbuffers::FlatBufferBuilder& b) {
                                  return std::make_pair(tfl::BuiltinOptions::SoftmaxOptions,
                                                        tfl::CreateSoftmaxOptions(b, bad).Union());
                                }),
                   "is not a finite number");
    }
  }
  // Input scale over output scale beyond float: the multiplier is infinite.
  expect_error(one_op_model(tfl::BuiltinOperator::LEAKY_RELU, tfl::TensorType::UINT8, 3e38f, 1e-30f,
                            [](flatbuffers::FlatBufferBuilder& b) {
                              return std::make_pair(tfl::BuiltinOptions::LeakyReluOptions,
                                                    tfl::CreateLeakyReluOptions(b, 0.1f).Union());
                            }),
               "is not a finite number");
  // MEAN over channels: an input scale over the output scale beyond float
  // (the model-loader fuzzer's), or past 2^31, where its float rescale of
  // sums and zero points could reach inf - inf.
  for (const float in_scale : {3e38f, 3e9f}) {
    ModelBuilder m;
    const int x = m.activation({1, 2, 3, 4}, tfl::TensorType::UINT8);
    const int axis = m.int_constant({1}, {3});
    const int y = m.activation({1, 2, 3, 1}, tfl::TensorType::UINT8);
    m.op(tfl::BuiltinOperator::MEAN, {x, axis}, {y}, [](flatbuffers::FlatBufferBuilder& b) {
      return std::make_pair(tfl::BuiltinOptions::ReducerOptions, tfl::CreateReducerOptions(b, true).Union());
    });
    m.output(y);
    ModelSpec spec = m.spec();
    spec.tensors[static_cast<size_t>(x)].scale = {in_scale};
    spec.tensors[static_cast<size_t>(x)].zero_point = {128};
    spec.tensors[static_cast<size_t>(y)].scale = {1.0f};
    spec.tensors[static_cast<size_t>(y)].zero_point = {0};
    expect_error(spec, "beyond 2^31");
  }
  // A fused RELU6 on an output of scale 1e-38: 6.0 is past int32 (and float); the range clamps.
  const std::string error = try_load(build_model(one_op_model(
      tfl::BuiltinOperator::ADD, tfl::TensorType::UINT8, 0.5f, 1e-38f,
      [](flatbuffers::FlatBufferBuilder& b) {
        return std::make_pair(tfl::BuiltinOptions::AddOptions,
                              tfl::CreateAddOptions(b, tfl::ActivationFunctionType::RELU6).Union());
      },
      2)));
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(MalformedModel, RandomCorruptionNeverCrashes) {
  const std::vector<uint8_t> base = build_model(tiny_conv_model());
  std::mt19937 rng(1234);
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> bytes = base;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
    try_load(bytes);  // either loads or throws osprey::Error; anything else fails the test
  }
}

// The same on a real model when the zoo is fetched.
TEST(MalformedModel, RealModelCorruptionNeverCrashes) {
  const char* cache = std::getenv("OSPREY_CACHE");
  const std::string dir =
      cache ? cache : std::string(std::getenv("HOME") ? std::getenv("HOME") : "") + "/.cache/osprey";
  const std::string path = dir + "/models/face_detection_short_range.tflite";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not fetched";
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> base((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::mt19937 rng(99);
  // Loading and preparing is where structure matters; running each variant
  // would only repeat the same kernels (and is slow under the sanitizers).
  for (int i = 0; i < 40; ++i) {
    const size_t n = rng() % base.size();
    EXPECT_NE(
        try_load(std::vector<uint8_t>(base.begin(), base.begin() + static_cast<std::ptrdiff_t>(n)), false),
        "");
  }
  for (int i = 0; i < 120; ++i) {
    std::vector<uint8_t> bytes = base;
    // Corrupt the structure (first 16 KiB: tables, offsets) more than weights.
    for (int f = 0; f < 4; ++f)
      bytes[rng() % std::min<size_t>(bytes.size(), 16384)] = static_cast<uint8_t>(rng());
    try_load(bytes, i % 20 == 0);
  }
}

// The same on int8/uint8 models, per-tensor and per-channel: integer kernels
// and the quantization parameters' checks see hostile bytes too.
TEST(MalformedModel, QuantizedModelCorruptionNeverCrashes) {
  const std::vector<std::vector<uint8_t>> seeds = quantized_seeds();
  if (seeds.empty()) GTEST_SKIP() << "no quantized seeds (the quantized_seeds fixture needs the zoo)";
  std::mt19937 rng(7);
  for (const std::vector<uint8_t>& base : seeds) {
    EXPECT_EQ(try_load(base), "");
    for (int i = 0; i < 10; ++i) {
      const size_t n = rng() % base.size();
      EXPECT_NE(
          try_load(std::vector<uint8_t>(base.begin(), base.begin() + static_cast<std::ptrdiff_t>(n)), false),
          "");
    }
    for (int i = 0; i < 40; ++i) {
      std::vector<uint8_t> bytes = base;
      for (int f = 0; f < 4; ++f)
        bytes[rng() % std::min<size_t>(bytes.size(), 16384)] = static_cast<uint8_t>(rng());
      try_load(bytes, i % 10 == 0);
    }
  }
}

}  // namespace
}  // namespace osprey::testing
