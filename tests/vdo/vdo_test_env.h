// Shared by the VDO tests: a private environment per test (no user config,
// the source named by OSPREY_VDO_SOURCE) and where vtest.avi is.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "vdo-error.h"

namespace osprey::vdo_test {

inline std::string vtest_path() {
  std::vector<std::string> candidates;
  if (const char* c = std::getenv("OSPREY_CACHE")) candidates.push_back(std::string(c) + "/media/vtest.avi");
  if (const char* h = std::getenv("HOME"))
    candidates.push_back(std::string(h) + "/.cache/osprey/media/vtest.avi");
  candidates.push_back("/usr/share/doc/opencv-doc/examples/data/vtest.avi");
  for (const auto& c : candidates)
    if (std::filesystem::exists(c)) return c;
  return {};
}

// Each test gets a temporary directory as XDG_CONFIG_HOME and a clean
// OSPREY_VDO_* environment.
class VdoEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("osprey-vdo-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    setenv("XDG_CONFIG_HOME", dir_.c_str(), 1);
    for (const char* name :
         {"OSPREY_VDO_CONFIG", "OSPREY_VDO_SOURCE", "OSPREY_VDO_LOOP", "OSPREY_VDO_REALTIME"})
      unsetenv(name);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void use_vtest() {
    vtest_ = vtest_path();
    if (vtest_.empty()) GTEST_SKIP() << "vtest.avi not found (opencv-doc or $OSPREY_CACHE/media)";
    setenv("OSPREY_VDO_SOURCE", vtest_.c_str(), 1);
  }

  std::filesystem::path dir_;
  std::string vtest_;
};

// EXPECT that a call failed with this VDO error code and a message.
#define EXPECT_VDO_ERROR(error, expected_code)                              \
  do {                                                                      \
    ASSERT_NE((error), nullptr);                                            \
    EXPECT_EQ((error)->domain, VDO_ERROR);                                  \
    EXPECT_EQ((error)->code, (expected_code)) << (error)->message;          \
    EXPECT_GT(strlen((error)->message), 10u);                               \
    EXPECT_EQ(strchr((error)->message, '\n'), nullptr) << (error)->message; \
  } while (0)

}  // namespace osprey::vdo_test
