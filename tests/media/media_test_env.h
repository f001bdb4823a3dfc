// Where the sample videos are, and a scratch directory per test.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace osprey::media_test {

inline std::string sample_video(const std::string& name) {
  std::vector<std::string> candidates;
  if (const char* c = std::getenv("OSPREY_CACHE")) candidates.push_back(std::string(c) + "/media/" + name);
  if (const char* h = std::getenv("HOME"))
    candidates.push_back(std::string(h) + "/.cache/osprey/media/" + name);
  candidates.push_back("/usr/share/doc/opencv-doc/examples/data/" + name);
  for (const auto& c : candidates)
    if (std::filesystem::exists(c)) return c;
  return {};
}

class MediaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("osprey-media-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string vtest() {
    const std::string path = sample_video("vtest.avi");
    if (path.empty()) ADD_FAILURE() << "vtest.avi not found (opencv-doc or $OSPREY_CACHE/media)";
    return path;
  }

  std::filesystem::path dir_;
};

}  // namespace osprey::media_test
