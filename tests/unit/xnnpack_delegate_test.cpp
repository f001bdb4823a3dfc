// Every zoo model on the default backend stack (osprey's AVX-512 kernels, then XNNPACK) against the reference
// kernels, on the same seeded random inputs (osprey::fill_random). XNNPACK sums in another order than the
// reference, so outputs are compared with the whole-output bound max|x - ref| <= 1e-3 * max(1, max|ref|).
//
// Models come from $OSPREY_CACHE/models (default ~/.cache/osprey/models);
// absent ones are skipped. To bound the time the reference kernels take,
// models above 2.5 GMAC are skipped too (all of today's zoo runs, ~5-10 s) unless
// OSPREY_XNNPACK_TEST_MAX_MACS says otherwise (0: no limit).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>

#include "backends/avx512/sparse_conv.h"
#include "io/random_fill.h"
#include "kernels/op_tester.h"
#include "runtime/interpreter.h"

namespace osprey {
namespace {

// The zoo's models but face_landmark_with_attention, whose MediaPipe custom
// ops only the reference kernels run (it is checked against MediaPipe).
const char* const kModels[] = {
    "face_detection_full_range",
    "face_detection_full_range_sparse",
    "face_detection_short_range",
    "face_landmark",
    "hand_landmark_full",
    "hand_landmark_lite",
    "object_detection_3d_camera",
    "object_detection_3d_chair",
    "object_detection_3d_cup",
    "object_detection_3d_sneakers",
    "object_detection_ssd_mobilenetv2_oidv4_fp16",
    "palm_detection_full",
    "palm_detection_lite",
    "pose_detection",
    "pose_landmark_full",
    "pose_landmark_heavy",
    "pose_landmark_lite",
    "selfie_segmentation",
    "selfie_segmentation_landscape",
};

// Ops of the zoo XNNPACK (Debian's 2022 build) has no operator for, and
// reshapes, which stay on the reference kernels unless inside a longer run.
const std::set<std::string> kReferenceOnly = {"CONCATENATION", "RESHAPE", "SQUEEZE", "EXPAND_DIMS"};

std::string model_path(const std::string& name) {
  const char* cache = std::getenv("OSPREY_CACHE");
  const char* home = std::getenv("HOME");
  std::filesystem::path dir = cache && *cache ? cache : std::string(home ? home : "") + "/.cache/osprey";
  return (dir / "models" / (name + ".tflite")).string();
}

int64_t max_macs() {
  const char* v = std::getenv("OSPREY_XNNPACK_TEST_MAX_MACS");
  if (!v || !*v) return 2'500'000'000;
  const long long n = std::atoll(v);
  return n <= 0 ? INT64_MAX : n;
}

class XnnpackModel : public ::testing::TestWithParam<const char*> {};

TEST_P(XnnpackModel, MatchesReferenceKernels) {
  const std::string path = model_path(GetParam());
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not fetched (make models)";
  auto ref = Interpreter::load(path);
  const int64_t macs = ref->total_macs();
  if (macs > max_macs()) {
    GTEST_SKIP() << GetParam() << " has " << macs / 1'000'000
                 << " MMACs, above the limit (OSPREY_XNNPACK_TEST_MAX_MACS=0 runs it)";
  }

  testing::TestBackend backend = testing::make_test_backend(kDefaultBackend, 2);
  auto xnn = Interpreter::load(path, backend.options);
  for (const OpInfo& info : xnn->plan_info()) {
    if (info.index >= 0) {
      EXPECT_TRUE(kReferenceOnly.count(info.name)) << info.name << " left on the reference kernels";
    }
  }

  std::mt19937 rng_ref(1), rng_xnn(1);
  ASSERT_EQ(ref->num_inputs(), xnn->num_inputs());
  for (int i = 0; i < ref->num_inputs(); ++i) {
    fill_random(ref->input(i), rng_ref);
    fill_random(xnn->input(i), rng_xnn);
  }
  ref->invoke();
  xnn->invoke();
  ASSERT_EQ(ref->num_outputs(), xnn->num_outputs());
  for (int o = 0; o < ref->num_outputs(); ++o) {
    const Tensor& a = ref->output(o);
    const Tensor& b = xnn->output(o);
    ASSERT_EQ(a.type, DType::kFloat32);
    ASSERT_EQ(a.shape, b.shape);
    double max_ref = 0, max_diff = 0;
    for (int64_t k = 0; k < a.num_elements(); ++k) {
      const float x = a.data_as<float>()[k], y = b.data_as<float>()[k];
      ASSERT_TRUE(std::isfinite(y)) << a.name << "[" << k << "] is " << y;
      max_ref = std::max(max_ref, static_cast<double>(std::fabs(x)));
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(x - y)));
    }
    EXPECT_LE(max_diff, 1e-3 * std::max(1.0, max_ref)) << "output " << o << " " << a.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, XnnpackModel, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

// Threads split the work, not the sums: results do not depend on the count.
TEST(XnnpackThreads, SameResultsOnOneAndTwoThreads) {
  const std::string path = model_path("face_detection_short_range");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not fetched (make models)";
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2}) {
    testing::TestBackend backend = testing::make_test_backend(kDefaultBackend, threads);
    auto xnn = Interpreter::load(path, backend.options);
    std::mt19937 rng(5);
    fill_random(xnn->input(0), rng);
    xnn->invoke();
    const Tensor& out = xnn->output(0);
    results.emplace_back(out.data_as<float>(), out.data_as<float>() + out.num_elements());
  }
  EXPECT_EQ(results[0], results[1]);
}

// Backends claim in the order given: each sees only the steps earlier ones left.
TEST(BackendStack, LaterBackendsSeeWhatEarlierOnesLeft) {
  const std::string path = model_path("face_detection_full_range_sparse");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not fetched (make models)";
  auto count_runs = [&](const std::string& list, const std::string& prefix) {
    const BackendStack backends = make_backends(list, 1);
    auto interp = Interpreter::load(path, backends.options());
    int runs = 0;
    for (const OpInfo& info : interp->plan_info()) runs += info.name.rfind(prefix, 0) == 0 ? 1 : 0;
    return runs;
  };
  EXPECT_EQ(count_runs("xnnpack,osprey-avx512", "OSPREY"), 0);
  EXPECT_EQ(count_runs("xnnpack", "OSPREY"), 0);
  EXPECT_EQ(count_runs("osprey-avx512", "XNNPACK"), 0);
  EXPECT_EQ(count_runs("ref", "XNNPACK") + count_runs("ref", "OSPREY"), 0);
  if (sparse_conv_supported()) {  // the sparse 1x1 layers at least (AVX-512, or AVX2 with FMA)
    const int own = count_runs("osprey-avx512", "OSPREY");
    EXPECT_GT(own, 0);
    EXPECT_EQ(count_runs(kDefaultBackend, "OSPREY"), own);
  } else {
    EXPECT_EQ(count_runs("osprey-avx512", "OSPREY"), 0);  // claims no float op without AVX2
  }
}

// Weight release (runtime/delegate.h): constants every reader of which a
// backend has packed give their pages back; nothing else does.
TEST(BackendStack, ReleasesPackedWeightsOnly) {
  const std::string path = model_path("face_detection_short_range");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not fetched (make models)";
  auto released = [&](const std::string& list, bool release) {
    const BackendStack backends = make_backends(list, 1);
    InterpreterOptions options = backends.options();
    options.release_weights = release;
    auto interp = Interpreter::load(path, options);
    int count = 0;
    for (const Tensor& t : interp->graph().tensors) count += t.is_constant && t.data == nullptr ? 1 : 0;
    // Whatever was released, the model still runs.
    std::mt19937 rng(2);
    fill_random(interp->input(0), rng);
    interp->invoke();
    return count;
  };
  EXPECT_GT(released(kDefaultBackend, true), 0);
  EXPECT_EQ(released(kDefaultBackend, false), 0);
  EXPECT_EQ(released("ref", true), 0);
}

// Any order of the stack gives the reference kernels' results (within the
// bound above); the default stack's bytes do not depend on the thread count.
TEST(BackendStack, EveryOrderMatchesReference) {
  const std::string path = model_path("selfie_segmentation");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not fetched (make models)";
  auto run = [&](const std::string& list) {
    const BackendStack backends = make_backends(list, 1);
    auto interp = Interpreter::load(path, backends.options());
    std::mt19937 rng(11);
    fill_random(interp->input(0), rng);
    interp->invoke();
    const Tensor& out = interp->output(0);
    return std::vector<float>(out.data_as<float>(), out.data_as<float>() + out.num_elements());
  };
  const std::vector<float> ref = run("ref");
  for (const char* list : {"osprey-avx512", "xnnpack", "xnnpack,osprey-avx512", kDefaultBackend}) {
    const std::vector<float> got = run(list);
    ASSERT_EQ(got.size(), ref.size()) << list;
    double max_ref = 0, max_diff = 0;
    for (size_t k = 0; k < ref.size(); ++k) {
      max_ref = std::max(max_ref, static_cast<double>(std::fabs(ref[k])));
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(ref[k] - got[k])));
    }
    EXPECT_LE(max_diff, 1e-3 * std::max(1.0, max_ref)) << list;
  }
}

}  // namespace
}  // namespace osprey
