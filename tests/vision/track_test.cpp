// The tracker's maths: the Kalman filter, the optimal assignment (against
// brute force), birth/death/coasting of tracks, and the ID-switch proxy.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "core/error.h"
#include "vision/track/assignment.h"
#include "vision/track/id_switches.h"
#include "vision/track/kalman_box_filter.h"
#include "vision/track/tracker.h"

namespace osprey::vision::track {
namespace {

Box box_at(float x, float y, float w = 40, float h = 100) {
  return {x, y, x + w, y + h};
}

TrackerParams params(float min_iou, int min_hits, int max_misses) {
  TrackerParams p;
  p.min_iou = min_iou;
  p.min_hits = min_hits;
  p.max_misses = max_misses;
  return p;
}

Detection detection_at(float x, float y, int class_id = 0) {
  Detection d;
  d.box = box_at(x, y);
  d.score = 0.9f;
  d.class_id = class_id;
  return d;
}

TEST(KalmanFilterTest, AxisFilterLearnsAConstantVelocity) {
  AxisFilter a;
  a.p00 = 4, a.p11 = 100;
  for (int t = 1; t <= 30; ++t) {
    a.predict(0.01f, 0.001f);
    a.update(3.0f * t, 1.0f);
  }
  EXPECT_NEAR(a.v, 3.0f, 0.05f);
  EXPECT_NEAR(a.x, 90.0f, 0.5f);
  const float before = a.p00;
  a.predict(0.01f, 0.001f);
  EXPECT_GT(a.p00, before);  // prediction loses certainty
  const float predicted = a.p00;
  a.update(93.0f, 1.0f);
  EXPECT_LT(a.p00, predicted);  // a measurement restores it
  EXPECT_LT(a.p00, 1.0f);
}

TEST(KalmanFilterTest, BoxFilterPredictsTheNextBoxOfAMovingObject) {
  KalmanBoxFilter filter(box_at(0, 50));
  for (int t = 1; t <= 15; ++t) {
    filter.predict();
    filter.update(box_at(5.0f * t, 50 + 2.0f * t));
  }
  const Box next = filter.predict();
  EXPECT_NEAR(next.xmin, 80.0f, 1.0f);
  EXPECT_NEAR(next.ymin, 82.0f, 1.0f);
  EXPECT_NEAR(next.width(), 40.0f, 0.5f);
  EXPECT_NEAR(filter.velocity().x, 5.0f, 0.2f);
  // Coasting keeps moving at that velocity.
  for (int i = 0; i < 4; ++i) filter.predict();
  EXPECT_NEAR(filter.box().xmin, 100.0f, 2.0f);
}

double total_cost(const std::vector<std::vector<double>>& cost, const std::vector<int>& columns) {
  double sum = 0;
  for (size_t r = 0; r < columns.size(); ++r)
    if (columns[r] >= 0) sum += cost[r][size_t(columns[r])];
  return sum;
}

// The least total cost over every way to pair min(rows, cols) rows and columns.
double brute_force_cost(const std::vector<std::vector<double>>& cost) {
  const size_t rows = cost.size(), cols = cost[0].size();
  std::vector<int> perm(std::max(rows, cols));
  std::iota(perm.begin(), perm.end(), 0);
  double best = 1e300;
  do {
    double sum = 0;
    for (size_t r = 0; r < rows; ++r)
      if (size_t(perm[r]) < cols) sum += cost[r][size_t(perm[r])];
    best = std::min(best, sum);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

TEST(AssignmentTest, BeatsGreedyOnAClassicCase) {
  // Greedy takes (0,0)=1 and then must pay 100; the optimum pays 2 + 2.
  const std::vector<std::vector<double>> cost = {{1, 2}, {2, 100}};
  const auto columns = min_cost_assignment(cost);
  EXPECT_EQ(columns, (std::vector<int>{1, 0}));
}

TEST(AssignmentTest, MatchesBruteForceOnRandomMatrices) {
  std::mt19937 random(7);
  std::uniform_real_distribution<double> value(0, 10);
  for (const auto& [rows, cols] :
       std::vector<std::pair<size_t, size_t>>{{5, 5}, {3, 6}, {6, 2}, {1, 4}, {4, 1}}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<std::vector<double>> cost(rows, std::vector<double>(cols));
      for (auto& row : cost)
        for (double& c : row) c = value(random);
      const auto columns = min_cost_assignment(cost);
      ASSERT_EQ(columns.size(), rows);
      std::vector<int> used;
      for (int c : columns)
        if (c >= 0) used.push_back(c);
      EXPECT_EQ(used.size(), std::min(rows, cols));
      std::sort(used.begin(), used.end());
      EXPECT_EQ(std::adjacent_find(used.begin(), used.end()), used.end()) << "a column used twice";
      EXPECT_NEAR(total_cost(cost, columns), brute_force_cost(cost), 1e-9);
    }
  }
  EXPECT_TRUE(min_cost_assignment({}).empty());
}

TEST(AssignmentTest, IouMatchingRespectsThresholdAndClasses) {
  const std::vector<Box> tracks = {box_at(0, 0), box_at(100, 0), box_at(300, 0)};
  const std::vector<Box> found = {box_at(104, 0), box_at(2, 0), box_at(330, 0)};
  auto pairs = match_by_iou(tracks, found, 0.3f, [](int, int) { return true; });
  std::sort(pairs.begin(), pairs.end());
  // The third pair overlaps by 10/70 of the union: below 0.3, no match.
  EXPECT_EQ(pairs, (std::vector<std::pair<int, int>>{{0, 1}, {1, 0}}));
  pairs = match_by_iou(tracks, found, 0.3f, [](int t, int) { return t != 0; });
  EXPECT_EQ(pairs, (std::vector<std::pair<int, int>>{{1, 0}}));
  const auto greedy = greedy_match_by_iou(tracks, found, 0.3f, {0, 0, 0}, {0, 1, 0});
  EXPECT_EQ(greedy, (std::vector<std::pair<int, int>>{{1, 0}}));
}

TEST(TrackerTest, BirthAfterMinHitsAndStableIds) {
  KalmanTracker tracker(params(0.3f, 3, 5));
  for (int t = 0; t < 12; ++t) {
    const auto tracks =
        tracker.update({detection_at(10 + 4.0f * t, 20), detection_at(400 - 4.0f * t, 30, 1)});
    if (t < 2) {
      EXPECT_TRUE(tracks.empty()) << "frame " << t;  // still tentative
      continue;
    }
    ASSERT_EQ(tracks.size(), 2u) << "frame " << t;
    EXPECT_EQ(tracks[0].id, 1);
    EXPECT_EQ(tracks[1].id, 2);
    EXPECT_NEAR(tracks[0].detection.box.xmin, 10 + 4.0f * t, 2.0f);
    EXPECT_EQ(tracks[1].detection.class_id, 1);
  }
}

TEST(TrackerTest, CoastsThroughMissesAndDiesAfterMaxMisses) {
  KalmanTracker tracker(params(0.3f, 2, 3));
  int t = 0;
  for (; t < 8; ++t) ASSERT_EQ(tracker.update({detection_at(6.0f * t, 0)}).size(), t < 1 ? 0u : 1u);
  // Three missed frames: the track coasts, unreported, and is found again
  // where its velocity carried it.
  for (int i = 0; i < 3; ++i, ++t) EXPECT_TRUE(tracker.update({}).empty());
  auto tracks = tracker.update({detection_at(6.0f * t, 0)});
  ++t;
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].id, 1);
  // Four missed frames end it; the object then comes back as a new track.
  for (int i = 0; i < 4; ++i, ++t) tracker.update({});
  EXPECT_EQ(tracker.live_tracks(), 0u);
  tracker.update({detection_at(6.0f * t, 0)});
  tracks = tracker.update({detection_at(6.0f * (t + 1), 0)});
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].id, 2);
}

TEST(TrackerTest, BadParametersAreErrors) {
  EXPECT_THROW(KalmanTracker(params(0, 3, 5)), Error);
  EXPECT_THROW(KalmanTracker(params(0.3f, 0, 5)), Error);
  EXPECT_THROW(KalmanTracker(params(0.3f, 1, -1)), Error);
}

TEST(TrackerTest, IouBaselineGivesANewIdAfterAGap) {
  IouTracker baseline(0.3f);
  EXPECT_EQ(baseline.update({detection_at(0, 0)})[0].id, 1);
  EXPECT_EQ(baseline.update({detection_at(4, 0)})[0].id, 1);
  EXPECT_TRUE(baseline.update({}).empty());
  EXPECT_EQ(baseline.update({detection_at(12, 0)})[0].id, 2);
}

TEST(IdSwitchTest, CountsJumpsButNotMotion) {
  IdSwitchCounter counter(5);
  counter.add(0, {{1, detection_at(0, 0)}, {2, detection_at(300, 0)}});
  counter.add(1, {{1, detection_at(8, 0)}, {2, detection_at(292, 0)}});  // motion
  EXPECT_EQ(counter.count().total(), 0);
  counter.add(2, {{1, detection_at(290, 0)}});  // ID 1 now sits on the other object
  EXPECT_EQ(counter.count().jumps, 1);
  EXPECT_EQ(counter.count().fragments, 0);
  EXPECT_EQ(counter.count().distinct_ids, 2);
}

TEST(IdSwitchTest, CountsANewIdWhereAnotherJustVanished) {
  IdSwitchCounter counter(5);
  counter.add(0, {{1, detection_at(0, 0)}, {2, detection_at(300, 0)}});
  counter.add(1, {{2, detection_at(296, 0)}});
  counter.add(2, {{2, detection_at(292, 0)}, {3, detection_at(6, 0)}});  // object 1 again, as ID 3
  EXPECT_EQ(counter.count().fragments, 1);
  // Another newcomer on ID 1's last place: ID 1 is blamed only once.
  counter.add(3, {{2, detection_at(288, 0)}, {3, detection_at(10, 0)}, {4, detection_at(2, 0)}});
  EXPECT_EQ(counter.count().fragments, 1);
  counter.add(20, {{5, detection_at(288, 0)}});  // ID 2 vanished 16 frames ago: beyond the window
  EXPECT_EQ(counter.count().fragments, 1);
  EXPECT_EQ(counter.count().jumps, 0);
  EXPECT_EQ(counter.count().distinct_ids, 5);
}

}  // namespace
}  // namespace osprey::vision::track
