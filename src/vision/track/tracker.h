// Multi-object trackers over per-frame detections, giving each object a
// stable integer ID: KalmanTracker (SORT-like: constant-velocity prediction,
// optimal IoU assignment, birth after min_hits matches, death after
// max_misses missed frames) and IouTracker, the frame-to-frame IoU matching
// it is measured against.
#pragma once

#include <cstdint>
#include <vector>

#include "vision/detection.h"
#include "vision/track/kalman_box_filter.h"

namespace osprey::vision::track {

struct Track {
  int id = 0;           // 1, 2, 3, ... in the order tracks are confirmed
  Detection detection;  // box from the tracker; score, class and keypoints from the matched detection
};

struct TrackerParams {
  float min_iou = 0.3f;  // predicted box vs detection, to match
  int min_hits = 3;      // matched frames before a track gets an ID and is reported
  int max_misses = 10;   // frames a confirmed track coasts unmatched before it ends
  KalmanNoise noise;
};

class KalmanTracker {
 public:
  explicit KalmanTracker(const TrackerParams& params = {});
  // Advances one frame; returns the confirmed tracks matched in this frame.
  std::vector<Track> update(const std::vector<Detection>& detections);
  // Tracks alive (tentative and coasting included), for tests.
  size_t live_tracks() const { return tracks_.size(); }

 private:
  struct State {
    KalmanBoxFilter filter;
    Detection last;
    int id = 0;  // 0 until confirmed
    int hits = 0, misses = 0;
  };

  TrackerParams params_;
  std::vector<State> tracks_;
  int next_id_ = 1;
};

class IouTracker {
 public:
  explicit IouTracker(float min_iou = 0.3f) : min_iou_(min_iou) {}
  // Each detection takes the ID of the previous frame's box it overlaps most
  // (greedy, same class, IoU >= min_iou), else a new ID.
  std::vector<Track> update(const std::vector<Detection>& detections);

 private:
  float min_iou_;
  std::vector<Track> previous_;
  int next_id_ = 1;
};

}  // namespace osprey::vision::track
