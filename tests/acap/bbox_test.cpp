// libbbox off-camera: committed geometry comes out as JSON lines; bad
// arguments fail with EINVAL instead of drawing garbage.
#include <bbox.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

class BboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = std::filesystem::temp_directory_path() / ("bbox_test_" + std::to_string(::getpid()) + ".jsonl");
    std::filesystem::remove(out_);
    ::setenv("OSPREY_BBOX_OUTPUT", out_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("OSPREY_BBOX_OUTPUT");
    std::filesystem::remove(out_);
  }
  std::vector<nlohmann::json> lines() const {
    std::vector<nlohmann::json> result;
    std::ifstream in(out_);
    for (std::string line; std::getline(in, line);) result.push_back(nlohmann::json::parse(line));
    return result;
  }
  std::filesystem::path out_;
};

TEST_F(BboxTest, CommitWritesTheGeometryDrawnSinceTheLastClear) {
  bbox_t* bb = bbox_view_new(1);
  ASSERT_NE(bb, nullptr);
  ASSERT_TRUE(bbox_coordinates_frame_normalized(bb));
  ASSERT_TRUE(bbox_rectangle(bb, 0.9f, 0.9f, 1.0f, 1.0f));  // cleared below: must not appear
  ASSERT_TRUE(bbox_clear(bb));
  ASSERT_TRUE(bbox_color(bb, bbox_color_from_rgb(255, 0, 0)));
  ASSERT_TRUE(bbox_thickness_thin(bb));
  ASSERT_TRUE(bbox_rectangle(bb, 0.25f, 0.5f, 0.75f, 1.0f));
  ASSERT_TRUE(bbox_style_corners(bb));
  ASSERT_TRUE(bbox_color(bb, bbox_color_from_rgba(0, 0, 255, 128)));
  ASSERT_TRUE(bbox_quad(bb, 0, 0, 1, 0, 1, 1, 0, 1));
  ASSERT_TRUE(bbox_move_to(bb, 0.1f, 0.1f));
  ASSERT_TRUE(bbox_line_to(bb, 0.2f, 0.3f));
  ASSERT_TRUE(bbox_line_to(bb, 0.4f, 0.1f));
  ASSERT_TRUE(bbox_draw_path(bb));
  ASSERT_TRUE(bbox_commit(bb, 1234));
  ASSERT_TRUE(bbox_destroy(bb));

  const auto out = lines();
  ASSERT_EQ(out.size(), 1u);
  const auto& c = out[0];
  EXPECT_EQ(c["when_us"], 1234);
  EXPECT_EQ(c["view"], 1);
  EXPECT_EQ(c["coordinates"], "frame");
  ASSERT_EQ(c["shapes"].size(), 3u);
  const auto& rect = c["shapes"][0];
  EXPECT_EQ(rect["kind"], "rectangle");
  EXPECT_EQ(rect["color"], nlohmann::json({255, 0, 0, 255}));
  EXPECT_EQ(rect["thickness"], "thin");
  EXPECT_EQ(rect["style"], "outline");
  EXPECT_FLOAT_EQ(rect["points"][1][1].get<float>(), 1.0f);
  EXPECT_EQ(c["shapes"][1]["kind"], "quad");
  EXPECT_EQ(c["shapes"][1]["style"], "corners");
  EXPECT_EQ(c["shapes"][1]["color"], nlohmann::json({0, 0, 255, 128}));
  EXPECT_EQ(c["shapes"][2]["kind"], "path");
  EXPECT_EQ(c["shapes"][2]["points"].size(), 3u);
}

TEST_F(BboxTest, SceneBoxesListTheirChannels) {
  bbox_t* bb = bbox_new(2u, 1u, 2u);
  ASSERT_NE(bb, nullptr);
  ASSERT_TRUE(bbox_line(bb, 0, 0, 1, 1));
  ASSERT_TRUE(bbox_commit(bb, 0));
  ASSERT_TRUE(bbox_clear(bb));
  ASSERT_TRUE(bbox_commit(bb, 0));  // an empty overlay is a valid commit
  ASSERT_TRUE(bbox_destroy(bb));
  const auto out = lines();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["channels"], nlohmann::json({1, 2}));
  EXPECT_EQ(out[0]["coordinates"], "scene");
  EXPECT_TRUE(out[1]["shapes"].empty());
}

TEST_F(BboxTest, BadArgumentsFailWithEinval) {
  errno = 0;
  EXPECT_EQ(bbox_new(0u), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_FALSE(bbox_rectangle(nullptr, 0, 0, 1, 1));
  EXPECT_FALSE(bbox_commit(nullptr, 0));
  EXPECT_FALSE(bbox_destroy(nullptr));
  bbox_t* bb = bbox_view_new(1);
  errno = 0;
  EXPECT_FALSE(bbox_rectangle(bb, NAN, 0, 1, 1));
  EXPECT_EQ(errno, EINVAL);
  EXPECT_FALSE(bbox_line_to(bb, 0.5f, 0.5f));  // no bbox_move_to yet
  EXPECT_FALSE(bbox_draw_path(bb));
  EXPECT_FALSE(bbox_commit(bb, -1));
  ASSERT_TRUE(bbox_commit(bb, 0));
  bbox_destroy(bb);
  EXPECT_EQ(lines().size(), 1u);
}

TEST_F(BboxTest, NothingIsWrittenWithoutAnOutput) {
  ::unsetenv("OSPREY_BBOX_OUTPUT");
  bbox_t* bb = bbox_view_new(1);
  ASSERT_TRUE(bbox_rectangle(bb, 0, 0, 1, 1));
  EXPECT_TRUE(bbox_commit(bb, 0));
  bbox_destroy(bb);
  EXPECT_FALSE(std::filesystem::exists(out_));
}

TEST_F(BboxTest, AnUnwritableOutputFailsTheCommit) {
  ::setenv("OSPREY_BBOX_OUTPUT", "/nonexistent-dir/overlay.jsonl", 1);
  bbox_t* bb = bbox_view_new(1);
  EXPECT_FALSE(bbox_commit(bb, 0));
  EXPECT_NE(errno, 0);
  bbox_destroy(bb);
}

}  // namespace
