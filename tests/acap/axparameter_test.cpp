// libaxparameter off-camera: manifest defaults, type checks, the key file as
// the store, and callbacks for changes made by the app or by hand.
#include <axsdk/axparameter.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

class AxParameterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("axparameter_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ::setenv("OSPREY_AXPARAMETER_DIR", (dir_ / "conf").c_str(), 1);
    const fs::path manifest = dir_ / "manifest.json";
    std::ofstream(manifest) << R"({"acapPackageConf": {"setup": {"appName": "detector"},
      "configuration": {"paramConfig": [
        {"name": "ConfThresholdPercent", "default": "25", "type": "int:maxlen=3;min=0;max=100"},
        {"name": "Mode", "default": "fast", "type": "enum:fast|exact"}]}}})";
    ::setenv("OSPREY_ACAP_MANIFEST", manifest.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("OSPREY_AXPARAMETER_DIR");
    ::unsetenv("OSPREY_ACAP_MANIFEST");
    fs::remove_all(dir_);
  }
  static std::string get(AXParameter* p, const char* name) {
    gchar* value = nullptr;
    GError* error = nullptr;
    if (!ax_parameter_get(p, name, &value, &error)) {
      std::string message = error->message;
      g_error_free(error);
      return "error: " + message;
    }
    std::string result = value;
    g_free(value);
    return result;
  }
  // Takes GError** so that the call's result and its error are read after the
  // call, whatever order the arguments are evaluated in.
  static int error_code(gboolean ok, GError** error) {
    if (ok || *error == nullptr) return -1;
    const int code = (*error)->code;
    EXPECT_EQ((*error)->domain, AX_PARAMETER_ERROR);
    g_clear_error(error);
    return code;
  }
  fs::path dir_;
};

TEST_F(AxParameterTest, ManifestDefaultsAreThereAndSetValuesPersist) {
  GError* error = nullptr;
  AXParameter* p = ax_parameter_new("detector", &error);
  ASSERT_NE(p, nullptr) << error->message;
  EXPECT_EQ(get(p, "ConfThresholdPercent"), "25");
  EXPECT_EQ(get(p, "root.detector.Mode"), "fast");
  ASSERT_TRUE(ax_parameter_set(p, "ConfThresholdPercent", "60", TRUE, &error));
  ax_parameter_free(p);

  AXParameter* again = ax_parameter_new("detector", &error);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(get(again, "ConfThresholdPercent"), "60");  // the manifest default does not overwrite it
  GList* names = ax_parameter_list(again, &error);
  std::vector<std::string> listed;
  for (GList* n = names; n != nullptr; n = n->next) listed.push_back(static_cast<char*>(n->data));
  g_list_free_full(names, g_free);
  EXPECT_EQ(listed, (std::vector<std::string>{"ConfThresholdPercent", "Mode"}));
  ax_parameter_free(again);
}

TEST_F(AxParameterTest, ValuesOutsideTheTypeAreRefused) {
  GError* error = nullptr;
  AXParameter* p = ax_parameter_new("detector", &error);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(error_code(ax_parameter_set(p, "ConfThresholdPercent", "101", FALSE, &error), &error),
            AX_PARAMETER_PARAM_SET_ERROR);
  EXPECT_EQ(error_code(ax_parameter_set(p, "ConfThresholdPercent", "2x", FALSE, &error), &error),
            AX_PARAMETER_PARAM_SET_ERROR);
  EXPECT_EQ(error_code(ax_parameter_set(p, "Mode", "slow", FALSE, &error), &error),
            AX_PARAMETER_PARAM_SET_ERROR);
  EXPECT_EQ(error_code(ax_parameter_set(p, "Missing", "1", FALSE, &error), &error),
            AX_PARAMETER_PARAM_EXIST_ERROR);
  EXPECT_EQ(error_code(ax_parameter_get(p, "Missing", nullptr, &error), &error),
            AX_PARAMETER_INVALID_ARG_ERROR);
  EXPECT_EQ(get(p, "ConfThresholdPercent"), "25");
  ASSERT_TRUE(ax_parameter_add(p, "Label", "person", "string", &error));
  EXPECT_EQ(error_code(ax_parameter_add(p, "Label", "car", "string", &error), &error),
            AX_PARAMETER_PARAM_ADDED_ERROR);
  ASSERT_TRUE(ax_parameter_remove(p, "Label", &error));
  EXPECT_EQ(error_code(ax_parameter_remove(p, "Label", &error), &error), AX_PARAMETER_PARAM_EXIST_ERROR);
  EXPECT_EQ(ax_parameter_new("bad name/..", &error), nullptr);
  EXPECT_EQ(error_code(FALSE, &error), AX_PARAMETER_INVALID_ARG_ERROR);
  ax_parameter_free(p);
}

TEST_F(AxParameterTest, ACorruptStoreIsAFormatError) {
  fs::create_directories(dir_ / "conf");
  std::ofstream(dir_ / "conf" / "detector.conf") << "this is [not a key file\n\x01\x02";
  GError* error = nullptr;
  EXPECT_EQ(ax_parameter_new("detector", &error), nullptr);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->code, AX_PARAMETER_FILE_FORMAT_ERROR);
  EXPECT_NE(std::string(error->message).find("detector.conf"), std::string::npos);
  g_error_free(error);
}

struct Seen {
  std::vector<std::string> changes;
};

void record(const gchar* name, const gchar* value, gpointer data) {
  static_cast<Seen*>(data)->changes.push_back(std::string(name) + "=" + value);
}

// Runs the default main context until PRED holds or two seconds pass.
template <typename Pred>
bool iterate_until(Pred pred) {
  const gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
  while (!pred() && g_get_monotonic_time() < deadline) {
    g_main_context_iteration(nullptr, FALSE);
    g_usleep(5000);
  }
  return pred();
}

TEST_F(AxParameterTest, CallbacksHearChangesFromTheAppAndFromTheFile) {
  GError* error = nullptr;
  AXParameter* p = ax_parameter_new("detector", &error);
  ASSERT_NE(p, nullptr);
  Seen seen;
  ASSERT_TRUE(ax_parameter_register_callback(p, "ConfThresholdPercent", record, &seen, &error));
  ASSERT_TRUE(ax_parameter_set(p, "ConfThresholdPercent", "40", TRUE, &error));
  ASSERT_TRUE(iterate_until([&] { return seen.changes.size() == 1; }));
  EXPECT_EQ(seen.changes[0], "ConfThresholdPercent=40");

  // A developer edits the store by hand, as a camera's web page would.
  const fs::path file = dir_ / "conf" / "detector.conf";
  GKeyFile* kf = g_key_file_new();
  ASSERT_TRUE(g_key_file_load_from_file(kf, file.c_str(), G_KEY_FILE_NONE, nullptr));
  g_key_file_set_string(kf, "parameters", "ConfThresholdPercent", "70");
  ASSERT_TRUE(g_key_file_save_to_file(kf, file.c_str(), nullptr));
  g_key_file_unref(kf);
  ASSERT_TRUE(iterate_until([&] { return seen.changes.size() == 2; }));
  EXPECT_EQ(seen.changes[1], "ConfThresholdPercent=70");
  EXPECT_EQ(get(p, "ConfThresholdPercent"), "70");

  ax_parameter_unregister_callback(p, "ConfThresholdPercent");
  ASSERT_TRUE(ax_parameter_set(p, "ConfThresholdPercent", "10", TRUE, &error));
  iterate_until([] { return false; });
  EXPECT_EQ(seen.changes.size(), 2u);
  ax_parameter_free(p);
}

}  // namespace
