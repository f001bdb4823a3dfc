// ONNX import: small models built with libonnx's protobuf classes, converted
// and run (layout, weights, folding), and malformed ones, each of which must
// fail with a one-line osprey::Error naming the problem.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <random>

#include "onnx/import.h"
#include "runtime/interpreter.h"

namespace osprey::onnx {
namespace {

namespace fs = std::filesystem;
using ::onnx::ModelProto;
using ::onnx::TensorProto;

void add_io(::onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& dims,
            const std::string& dynamic = "") {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(TensorProto::FLOAT);
  auto* shape = t->mutable_shape();
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i == 0 && !dynamic.empty())
      shape->add_dim()->set_dim_param(dynamic);
    else
      shape->add_dim()->set_dim_value(dims[i]);
  }
}

TensorProto* add_initializer(ModelProto& m, const std::string& name, const std::vector<int64_t>& dims,
                             const std::vector<float>& values) {
  TensorProto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  for (float v : values) t->add_float_data(v);
  return t;
}

// x [1,2,3,3] -> Conv 3x3 (2 -> 2 channels, pads 1) -> Relu -> Transpose(0,2,3,1) -> y [1,3,3,2].
ModelProto conv_model(int64_t opset = 13, const std::string& dynamic = "") {
  ModelProto m;
  m.set_ir_version(7);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  auto* g = m.mutable_graph();
  g->set_name("conv");
  add_io(g->add_input(), "x", {1, 2, 3, 3}, dynamic);
  add_io(g->add_output(), "y", {1, 3, 3, 2});
  std::vector<float> w(2 * 2 * 3 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 7) - 3.0f;
  add_initializer(m, "w", {2, 2, 3, 3}, w);
  add_initializer(m, "b", {2}, {0.5f, -0.5f});
  auto* conv = g->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv0");
  conv->add_input("x");
  conv->add_input("w");
  conv->add_input("b");
  conv->add_output("c");
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(::onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  auto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->set_name("relu0");
  relu->add_input("c");
  relu->add_output("r");
  auto* tr = g->add_node();
  tr->set_op_type("Transpose");
  tr->set_name("t0");
  tr->add_input("r");
  tr->add_output("y");
  auto* perm = tr->add_attribute();
  perm->set_name("perm");
  perm->set_type(::onnx::AttributeProto::INTS);
  for (int p : {0, 2, 3, 1}) perm->add_ints(p);
  return m;
}

std::vector<uint8_t> bytes_of(const ModelProto& m) {
  std::string s;
  m.SerializeToString(&s);
  return {s.begin(), s.end()};
}

std::string error_of(const std::vector<uint8_t>& bytes, const ImportOptions& options = {},
                     const std::string& dir = "") {
  try {
    Interpreter::from_buffer(convert_onnx_bytes(bytes, dir, options), "m.tflite");
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(OnnxImport, ConvReluTransposeMatchesNaiveNchw) {
  const ModelProto m = conv_model();
  auto interp = Interpreter::from_buffer(convert_onnx_bytes(bytes_of(m), ""), "conv.tflite");
  ASSERT_EQ(interp->input(0).shape, (Shape{1, 2, 3, 3}));  // the ONNX layout at the boundary
  ASSERT_EQ(interp->output(0).shape, (Shape{1, 3, 3, 2}));
  std::vector<float> x(18);  // kept: the arena may reuse the input's bytes during the run
  for (int i = 0; i < 18; ++i) x[static_cast<size_t>(i)] = static_cast<float>((i * 5) % 11) / 4.0f - 1.0f;
  std::copy(x.begin(), x.end(), interp->input(0).data_as<float>());
  interp->invoke();
  const float* y = interp->output(0).data_as<float>();
  const TensorProto& w = m.graph().initializer(0);
  for (int o = 0; o < 2; ++o)
    for (int h = 0; h < 3; ++h)
      for (int wd = 0; wd < 3; ++wd) {
        float sum = o == 0 ? 0.5f : -0.5f;
        for (int i = 0; i < 2; ++i)
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              const int iy = h + ky - 1, ix = wd + kx - 1;
              if (iy < 0 || iy >= 3 || ix < 0 || ix >= 3) continue;
              sum += x[static_cast<size_t>((i * 3 + iy) * 3 + ix)] *
                     w.float_data(((o * 2 + i) * 3 + ky) * 3 + kx);
            }
        EXPECT_NEAR(y[(h * 3 + wd) * 2 + o], std::max(sum, 0.0f), 1e-5f) << o << " " << h << " " << wd;
      }
  // Conv+Relu fuse; the Transpose to NHWC cancels the layout change: only the input TRANSPOSE remains.
  int transposes = 0;
  for (const Op& op : interp->graph().ops) transposes += op.code == static_cast<int32_t>(OpCode::kTranspose);
  EXPECT_EQ(transposes, 1);
}

TEST(OnnxImportMalformed, RandomBytesAndTruncation) {
  std::mt19937 rng(7);
  std::vector<uint8_t> noise(512);
  for (auto& b : noise) b = static_cast<uint8_t>(rng());
  EXPECT_NE(error_of(noise), "");
  const std::vector<uint8_t> good = bytes_of(conv_model());
  for (size_t cut : {size_t{1}, good.size() / 3, good.size() / 2, good.size() - 3}) {
    const std::string e = error_of(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(cut)));
    EXPECT_NE(e, "") << "cut at " << cut;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  EXPECT_NE(error_of({}), "");
}

TEST(OnnxImportMalformed, Opset) {
  EXPECT_NE(error_of(bytes_of(conv_model(18))).find("opset 18 is not supported"), std::string::npos);
  EXPECT_NE(error_of(bytes_of(conv_model(99))).find("opset 99"), std::string::npos);
}

TEST(OnnxImportMalformed, DynamicShapeNeedsInputShape) {
  const std::vector<uint8_t> m = bytes_of(conv_model(13, "batch"));
  const std::string e = error_of(m);
  EXPECT_NE(e.find("input 'x' has a dynamic dimension"), std::string::npos) << e;
  EXPECT_NE(e.find("--input-shape"), std::string::npos) << e;
  ImportOptions o;
  o.input_shapes.push_back(parse_input_shape("x:1,2,3,3"));
  EXPECT_EQ(error_of(m, o), "");
  o.input_shapes[0] = parse_input_shape("x:1,2,3,3,1");
  EXPECT_NE(error_of(m, o).find("rank"), std::string::npos);
  EXPECT_THROW(parse_input_shape("x:1,,3"), Error);
  EXPECT_THROW(parse_input_shape("x1,2"), Error);
  EXPECT_THROW(parse_input_shape("x:1,-2"), Error);
}

TEST(OnnxImportMalformed, InputWithoutShapeNeedsInputShape) {
  ModelProto m = conv_model();
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  const std::string e = error_of(bytes_of(m));
  EXPECT_NE(e.find("input 'x' has no shape"), std::string::npos) << e;
  ImportOptions o;
  o.input_shapes.push_back(parse_input_shape("x:1,2,3,3"));
  EXPECT_EQ(error_of(bytes_of(m), o), "");
}

// libonnx's own ConvTranspose shape inference crashed on a weight of rank 0.
TEST(OnnxImportMalformed, ConvTransposeWeightRank) {
  ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(11);
  auto* g = m.mutable_graph();
  g->set_name("up");
  add_io(g->add_input(), "x", {1, 2, 3});
  add_io(g->add_input(), "w", {});
  add_io(g->add_output(), "y", {1, 2, 3});
  auto* node = g->add_node();
  node->set_op_type("ConvTranspose");
  node->set_name("up");
  node->add_input("x");
  node->add_input("w");
  node->add_output("y");
  const std::string e = error_of(bytes_of(m));
  EXPECT_NE(e.find("ConvTranspose 'up': weight 'w' has rank 0, expected 3"), std::string::npos) << e;
}

// libonnx's own Conv shape inference divided by a stride of 0.
TEST(OnnxImportMalformed, ZeroStrideOrGroup) {
  for (const char* name : {"strides", "group"}) {
    ModelProto m = conv_model();
    auto* a = m.mutable_graph()->mutable_node(0)->add_attribute();
    a->set_name(name);
    if (std::string(name) == "group") {
      a->set_type(::onnx::AttributeProto::INT);
      a->set_i(0);
    } else {
      a->set_type(::onnx::AttributeProto::INTS);
      a->add_ints(1);
      a->add_ints(0);
    }
    const std::string e = error_of(bytes_of(m));
    EXPECT_NE(e.find(std::string("Conv 'conv0': ") + name), std::string::npos) << e;
  }
}

// libonnx's own STFT shape inference read past a scalar signal's shape
// (SEGV, found by fuzzing): it runs in a child process, so that is an error.
TEST(OnnxImportMalformed, ACrashInLibonnxInferenceIsAnError) {
  ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("stft");
  add_io(g->add_input(), "signal", {});
  for (const char* name : {"frame_step", "frame_length"}) {
    auto* v = g->add_input();
    add_io(v, name, {});
    v->mutable_type()->mutable_tensor_type()->set_elem_type(TensorProto::INT64);
  }
  add_io(g->add_output(), "y", {1, 15, 9, 2});
  auto* node = g->add_node();
  node->set_op_type("STFT");
  node->set_name("stft");
  for (const char* input : {"signal", "frame_step", "", "frame_length"}) node->add_input(input);
  node->add_output("y");
  const std::string e = error_of(bytes_of(m));
  EXPECT_NE(e, "");
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST(OnnxImportMalformed, HugeDimensions) {
  ModelProto m = conv_model(13, "batch");
  ImportOptions o;
  o.input_shapes.push_back(parse_input_shape("x:2000000000,2,3,3"));
  EXPECT_NE(error_of(bytes_of(m), o), "");
  ModelProto big = conv_model();
  big.mutable_graph()->mutable_initializer(1)->set_dims(0, int64_t{1} << 40);
  EXPECT_NE(error_of(bytes_of(big)), "");
}

TEST(OnnxImportMalformed, ExternalDataOutsideTheFolder) {
  const fs::path dir = fs::temp_directory_path() / "osprey-onnx-external";
  fs::create_directories(dir / "model");
  {
    std::ofstream(dir / "secret.bin", std::ios::binary) << std::string(8, '\0');
    std::ofstream(dir / "model" / "b.bin", std::ios::binary) << std::string(8, '\0');
  }
  auto with_location = [](const std::string& location) {
    ModelProto m = conv_model();
    TensorProto* b = m.mutable_graph()->mutable_initializer(1);
    b->clear_float_data();
    b->set_data_location(TensorProto::EXTERNAL);
    auto* kv = b->add_external_data();
    kv->set_key("location");
    kv->set_value(location);
    return bytes_of(m);
  };
  const std::string model_dir = (dir / "model").string();
  EXPECT_EQ(error_of(with_location("b.bin"), {}, model_dir), "");
  for (const std::string& bad :
       std::vector<std::string>{"../secret.bin", (dir / "secret.bin").string(), "sub/../../secret.bin"}) {
    const std::string e = error_of(with_location(bad), {}, model_dir);
    EXPECT_NE(e.find("outside the model's folder"), std::string::npos) << bad << ": " << e;
  }
  EXPECT_NE(error_of(with_location("b.bin"), {}, ""), "");  // bytes without a folder: no external data
  fs::remove_all(dir);
}

TEST(OnnxImportMalformed, UnsupportedOpsListedOnce) {
  ModelProto m = conv_model();
  const std::vector<std::array<std::string, 3>> nodes = {{"ArgMax", "ArgMax_node", "ArgMax_out"},
                                                         {"NonZero", "NonZero_node", "NonZero_out"}};
  for (const auto& [type, name, output] : nodes) {
    auto* n = m.mutable_graph()->add_node();
    n->set_op_type(type);
    n->set_name(name);
    n->add_input("y");
    n->add_output(output);
  }
  const std::string e = error_of(bytes_of(m));
  EXPECT_NE(e.find("unsupported ONNX ops: ArgMax (node 'ArgMax_node'), NonZero (node 'NonZero_node')"),
            std::string::npos)
      << e;
}

}  // namespace
}  // namespace osprey::onnx
