// The emulated DLPU devices of ospreyd (src/service/daemon/dlpu_device.cpp):
// listed like real Larod devices, loading exactly what `osprey check` says
// the chip loads, logging the CPU fallback, running like cpu-tflite.
#include "dlpu_models.h"
#include "quant/targets.h"
#include "service_fixture.h"

namespace osprey::service::testing {
namespace {

struct Chip {
  const char* device;
  quant::Target target;
};
const Chip kChips[] = {{"google-edge-tpu-tflite", quant::Target::kArtpec7},
                       {"axis-a8-dlpu-tflite", quant::Target::kArtpec8},
                       {"a9-dlpu-tflite", quant::Target::kArtpec9}};

// What `osprey check --target` decides, computed in-process the way it does.
std::string cli_refusal(const std::vector<uint8_t>& bytes, quant::Target target) {
  auto interp = Interpreter::from_buffer(bytes, "m");
  return quant::check_target(quant::without_folded_ops(interp->graph()), target).load_refusal;
}

class DlpuDevicesTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    conn_ = connect();
    ASSERT_NE(conn_, nullptr);
  }
  void TearDown() override {
    for (larodModel*& m : models_) larodDestroyModel(&m);
    if (conn_) {
      EXPECT_TRUE(larodDisconnect(&conn_, nullptr));
    }
    ServiceTest::TearDown();
  }

  // Loads `kind` on `device` as `name`; null (and `e` set) when refused.
  larodModel* load(DlpuModel kind, const char* device, const std::string& name, Err& e) {
    const std::string path = dir_.path() + "/" + dlpu_model_name(kind) + ".tflite";
    write_file(path, dlpu_model_bytes(kind));
    const larodDevice* dev = larodGetDevice(conn_, device, 0, &e);
    EXPECT_NE(dev, nullptr) << e.msg();
    if (!dev) return nullptr;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    larodModel* m = larodLoadModel(conn_, fd, dev, LAROD_ACCESS_PRIVATE, name.c_str(), nullptr, &e);
    ::close(fd);
    if (m) models_.push_back(m);
    return m;
  }

  // Runs `m` once on `input` (bytes of its only input); returns its only output.
  std::vector<uint8_t> run(larodModel* m, const std::vector<uint8_t>& input) {
    Err e;
    size_t n_in = 0, n_out = 0;
    larodTensor** in = larodAllocModelInputs(conn_, m, LAROD_FD_PROP_MAP, &n_in, nullptr, &e);
    larodTensor** out = larodAllocModelOutputs(conn_, m, LAROD_FD_PROP_MAP, &n_out, nullptr, &e);
    EXPECT_TRUE(in && out && n_in == 1 && n_out == 1) << e.msg();
    if (!in || !out) return {};
    std::vector<uint8_t> result;
    {
      Mapped min(in[0]), mout(out[0]);
      size_t in_bytes = 0, out_bytes = 0;
      larodGetTensorByteSize(in[0], &in_bytes, nullptr);
      larodGetTensorByteSize(out[0], &out_bytes, nullptr);
      EXPECT_EQ(in_bytes, input.size());
      std::memcpy(min.data(), input.data(), std::min(in_bytes, input.size()));
      larodJobRequest* req = larodCreateJobRequest(m, in, n_in, out, n_out, nullptr, &e);
      EXPECT_NE(req, nullptr) << e.msg();
      if (req && larodRunJob(conn_, req, &e)) result.assign(mout.data(), mout.data() + out_bytes);
      EXPECT_FALSE(result.empty()) << e.msg();
      larodDestroyJobRequest(&req);
    }
    EXPECT_TRUE(larodDestroyTensors(conn_, &in, n_in, &e)) << e.msg();
    EXPECT_TRUE(larodDestroyTensors(conn_, &out, n_out, &e)) << e.msg();
    return result;
  }

  bool logged(const std::string& line) {
    return eventually([&] { return daemon_.log().find(line) != std::string::npos; }, 5);
  }
  size_t count_in_log(const std::string& text) {
    const std::string log = daemon_.log();
    size_t n = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
  }

  larodConnection* conn_ = nullptr;
  std::vector<larodModel*> models_;
};

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST_F(DlpuDevicesTest, ListedWithTheirInstance) {
  Err e;
  size_t n = 0;
  const larodDevice** devs = larodListDevices(conn_, &n, &e);
  ASSERT_NE(devs, nullptr) << e.msg();
  for (const Chip& chip : kChips) {
    bool found = false;
    for (size_t i = 0; i < n; ++i) {
      uint32_t instance = 99;
      ASSERT_TRUE(larodGetDeviceInstance(devs[i], &instance, &e));
      if (std::string(larodGetDeviceName(devs[i], &e)) == chip.device) found = instance == 0;
    }
    EXPECT_TRUE(found) << chip.device;
    EXPECT_NE(larodGetDevice(conn_, chip.device, 0, &e), nullptr) << e.msg();
    EXPECT_EQ(larodGetDevice(conn_, chip.device, 1, &e), nullptr);  // one instance of each
    EXPECT_EQ(e.code(), LAROD_ERROR_INVALID_CHIP_ID);
    e.clear();
  }
  std::free(devs);
}

TEST_F(DlpuDevicesTest, FloatModelIsRefusedNamingItsFirstFloatOp) {
  for (const Chip& chip : kChips) {
    Err e;
    EXPECT_EQ(load(DlpuModel::kFloat, chip.device, "float", e), nullptr) << chip.device;
    EXPECT_EQ(e.code(), LAROD_ERROR_LOAD_MODEL);
    const std::string want = std::string(chip.device) + ": op #0 CONV_2D has float32 input 'input': ";
    EXPECT_EQ(e.msg().rfind(want, 0), 0u) << e.msg();
    EXPECT_NE(e.msg().find("runs only full-integer models"), std::string::npos) << e.msg();
    EXPECT_EQ(e.msg().find('\n'), std::string::npos) << "one line: " << e.msg();
    EXPECT_TRUE(logged("event=load_failed")) << daemon_.log();
    EXPECT_TRUE(logged(std::string("device=") + chip.device + ":0 name=float code=LOAD_MODEL"))
        << daemon_.log();
  }
  // The same bytes load on cpu-tflite: only the emulated chips refuse them.
  Err e;
  EXPECT_NE(load(DlpuModel::kFloat, "cpu-tflite", "float", e), nullptr) << e.msg();
}

TEST_F(DlpuDevicesTest, HybridModelIsRefusedAtTheFloatOpInTheMiddle) {
  Err e;
  EXPECT_EQ(load(DlpuModel::kHybrid, "axis-a8-dlpu-tflite", "hybrid", e), nullptr);
  EXPECT_EQ(e.code(), LAROD_ERROR_LOAD_MODEL);
  EXPECT_EQ(e.msg().rfind("axis-a8-dlpu-tflite: op #3 LOGISTIC has float32 input 'conv_float': ", 0), 0u)
      << e.msg();
}

// The daemon and `osprey check` share quant/targets: for every test model and
// chip, the device loads exactly when the check has no refusal, and refuses
// with the check's words.
TEST_F(DlpuDevicesTest, LoadsExactlyWhatOspreyCheckSays) {
  int loaded = 0, refused = 0;
  for (DlpuModel kind : all_dlpu_models()) {
    for (const Chip& chip : kChips) {
      const std::string refusal = cli_refusal(dlpu_model_bytes(kind), chip.target);
      Err e;
      larodModel* m = load(kind, chip.device, dlpu_model_name(kind), e);
      SCOPED_TRACE(std::string(dlpu_model_name(kind)) + " on " + chip.device);
      if (refusal.empty()) {
        EXPECT_NE(m, nullptr) << e.msg();
        ++loaded;
      } else {
        EXPECT_EQ(m, nullptr);
        EXPECT_EQ(e.code(), LAROD_ERROR_LOAD_MODEL);
        EXPECT_EQ(e.msg(), std::string(chip.device) + ": " + refusal);
        ++refused;
      }
    }
  }
  // float and hybrid are refused everywhere; the integer ones (and float-io's
  // integer core) load everywhere, per-channel included.
  EXPECT_EQ(refused, 2 * 3);
  EXPECT_EQ(loaded, 3 * 3);
}

TEST_F(DlpuDevicesTest, PerTensorUint8ModelRunsByteForByteLikeCpuTflite) {
  Err e;
  larodModel* cpu = load(DlpuModel::kPerTensor, "cpu-tflite", "pt", e);
  ASSERT_NE(cpu, nullptr) << e.msg();
  for (const Chip& chip : kChips) {
    larodModel* m = load(DlpuModel::kPerTensor, chip.device, "pt", e);
    ASSERT_NE(m, nullptr) << chip.device << ": " << e.msg();
    EXPECT_STREQ(larodGetDeviceName(larodGetModelDevice(m, &e), &e), chip.device);
    for (uint32_t seed = 1; seed <= 3; ++seed) {
      const std::vector<uint8_t> input = random_bytes(8 * 8 * 3, seed);
      const std::vector<uint8_t> want = run(cpu, input);
      ASSERT_EQ(want.size(), 10u * 10 * 8);
      EXPECT_EQ(run(m, input), want) << chip.device << " seed " << seed;
    }
  }
}

TEST_F(DlpuDevicesTest, FallbackOpsAreLoggedOncePerKindAtLoad) {
  Err e;
  ASSERT_NE(load(DlpuModel::kPerTensor, "axis-a8-dlpu-tflite", "pt", e), nullptr) << e.msg();
  // ARTPEC-8's op list has no PAD: the chip would hand it to its CPU.
  EXPECT_TRUE(
      logged("event=dlpu_placement device=axis-a8-dlpu-tflite:0 name=pt accelerated=3 ops=4 "
             "cpu_fallback=1"))
      << daemon_.log();
  EXPECT_TRUE(
      logged("event=cpu_fallback device=axis-a8-dlpu-tflite:0 name=pt op=PAD count=1 first=#2 "
             "reason=\"PAD is not in ARTPEC-8's list of accelerated ops\""))
      << daemon_.log();
  // ARTPEC-9 runs a PAD of at most 7 on height and width.
  ASSERT_NE(load(DlpuModel::kPerTensor, "a9-dlpu-tflite", "pt", e), nullptr) << e.msg();
  EXPECT_TRUE(
      logged("event=dlpu_placement device=a9-dlpu-tflite:0 name=pt accelerated=4 ops=4 cpu_fallback=0"))
      << daemon_.log();
  EXPECT_EQ(count_in_log("event=cpu_fallback device=a9-dlpu-tflite"), 0u) << daemon_.log();
}

TEST_F(DlpuDevicesTest, PerChannelModelLoadsEverywhereButRunsOnArtpec8sCpu) {
  Err e;
  larodModel* cpu = load(DlpuModel::kPerChannel, "cpu-tflite", "pc", e);
  ASSERT_NE(cpu, nullptr) << e.msg();
  const std::vector<uint8_t> input = random_bytes(8 * 8 * 3, 7);
  const std::vector<uint8_t> want = run(cpu, input);
  for (const Chip& chip : kChips) {
    larodModel* m = load(DlpuModel::kPerChannel, chip.device, "pc", e);
    ASSERT_NE(m, nullptr) << chip.device << ": " << e.msg();
    EXPECT_EQ(run(m, input), want) << chip.device;
  }
  // ARTPEC-8 wants per-tensor weights: the convolution falls back to its CPU.
  EXPECT_TRUE(
      logged("event=cpu_fallback device=axis-a8-dlpu-tflite:0 name=pc op=CONV_2D count=1 first=#1 "
             "reason=\"per-channel quantized 'weights' (8 scales): ARTPEC-8 needs per-tensor"))
      << daemon_.log();
  // ARTPEC-7 and ARTPEC-9 run either granularity.
  EXPECT_TRUE(
      logged("event=dlpu_placement device=a9-dlpu-tflite:0 name=pc accelerated=4 ops=4 cpu_fallback=0"))
      << daemon_.log();
  EXPECT_TRUE(logged(
      "event=dlpu_placement device=google-edge-tpu-tflite:0 name=pc accelerated=4 ops=4 cpu_fallback=0"))
      << daemon_.log();
}

TEST_F(DlpuDevicesTest, FloatEdgesLoadAndRunOnTheChipsCpu) {
  Err e;
  larodModel* cpu = load(DlpuModel::kFloatIo, "cpu-tflite", "fio", e);
  ASSERT_NE(cpu, nullptr) << e.msg();
  larodModel* a8 = load(DlpuModel::kFloatIo, "axis-a8-dlpu-tflite", "fio", e);
  ASSERT_NE(a8, nullptr) << e.msg();
  EXPECT_TRUE(logged("event=cpu_fallback device=axis-a8-dlpu-tflite:0 name=fio op=QUANTIZE count=1 first=#0"))
      << daemon_.log();
  EXPECT_TRUE(
      logged("event=cpu_fallback device=axis-a8-dlpu-tflite:0 name=fio op=DEQUANTIZE count=1 first=#3"))
      << daemon_.log();
  std::vector<float> values = random_input(3, 8 * 8 * 3);
  std::vector<uint8_t> input(values.size() * sizeof(float));
  std::memcpy(input.data(), values.data(), input.size());
  const std::vector<uint8_t> want = run(cpu, input);
  ASSERT_EQ(want.size(), 10u * 10 * 8 * sizeof(float));
  EXPECT_EQ(run(a8, input), want);
}

TEST_F(DlpuDevicesTest, ModelsOspreyCannotRunFailAsOnCpuTflite) {
  const std::string path = dir_.path() + "/junk.tflite";
  write_file(path, std::vector<uint8_t>(64, 'x'));
  std::string cpu_message;
  for (const char* device : {"cpu-tflite", "axis-a8-dlpu-tflite"}) {
    Err e;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_EQ(larodLoadModel(conn_, fd, larodGetDevice(conn_, device, 0, nullptr), LAROD_ACCESS_PRIVATE,
                             "junk", nullptr, &e),
              nullptr);
    ::close(fd);
    EXPECT_EQ(e.code(), LAROD_ERROR_LOAD_MODEL) << device;
    EXPECT_NE(e.msg().find("not a TFLite model"), std::string::npos) << e.msg();
    if (cpu_message.empty()) cpu_message = e.msg();
    EXPECT_EQ(e.msg(), cpu_message);
  }
  // fd -1 (a preprocessing-style load) is refused with the device's name.
  Err e;
  EXPECT_EQ(larodLoadModel(conn_, -1, larodGetDevice(conn_, "a9-dlpu-tflite", 0, nullptr),
                           LAROD_ACCESS_PRIVATE, "none", nullptr, &e),
            nullptr);
  EXPECT_EQ(e.code(), LAROD_ERROR_LOAD_MODEL);
  EXPECT_EQ(e.msg().rfind("a9-dlpu-tflite needs a .tflite file", 0), 0u) << e.msg();
}

}  // namespace
}  // namespace osprey::service::testing
