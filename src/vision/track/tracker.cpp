#include "vision/track/tracker.h"

#include <algorithm>

#include "core/error.h"
#include "vision/track/assignment.h"

namespace osprey::vision::track {

KalmanTracker::KalmanTracker(const TrackerParams& params) : params_(params) {
  OSPREY_CHECK(params.min_iou > 0 && params.min_iou <= 1, "tracker min IoU {} is not in (0, 1]",
               params.min_iou);
  OSPREY_CHECK(params.min_hits >= 1, "tracker min hits {} must be at least 1", params.min_hits);
  OSPREY_CHECK(params.max_misses >= 0, "tracker max misses {} must not be negative", params.max_misses);
}

std::vector<Track> KalmanTracker::update(const std::vector<Detection>& detections) {
  std::vector<Box> predicted, measured;
  for (State& t : tracks_) predicted.push_back(t.filter.predict());
  for (const Detection& d : detections) measured.push_back(d.box);
  const auto pairs = match_by_iou(predicted, measured, params_.min_iou, [&](int t, int d) {
    return tracks_[size_t(t)].last.class_id == detections[size_t(d)].class_id;
  });

  std::vector<bool> track_matched(tracks_.size(), false), detection_used(detections.size(), false);
  for (const auto& [t, d] : pairs) {
    State& state = tracks_[size_t(t)];
    state.last = detections[size_t(d)];
    state.last.box = state.filter.update(detections[size_t(d)].box);
    ++state.hits;
    state.misses = 0;
    if (state.id == 0 && state.hits >= params_.min_hits) state.id = next_id_++;
    track_matched[size_t(t)] = detection_used[size_t(d)] = true;
  }
  for (size_t t = 0; t < tracks_.size(); ++t)
    if (!track_matched[t]) ++tracks_[t].misses;
  // A tentative track ends at its first miss; a confirmed one coasts on its
  // prediction for up to max_misses frames.
  std::erase_if(tracks_,
                [&](const State& s) { return s.misses > 0 && (s.id == 0 || s.misses > params_.max_misses); });
  for (size_t d = 0; d < detections.size(); ++d) {
    if (detection_used[d]) continue;
    State state{KalmanBoxFilter(detections[d].box, params_.noise), detections[d], 0, 1, 0};
    if (params_.min_hits <= 1) state.id = next_id_++;
    tracks_.push_back(std::move(state));
  }

  std::vector<Track> out;
  for (const State& s : tracks_)
    if (s.id != 0 && s.misses == 0) out.push_back({s.id, s.last});
  std::sort(out.begin(), out.end(), [](const Track& a, const Track& b) { return a.id < b.id; });
  return out;
}

std::vector<Track> IouTracker::update(const std::vector<Detection>& detections) {
  std::vector<Box> before, now;
  std::vector<int> before_class, now_class;
  for (const Track& t : previous_)
    before.push_back(t.detection.box), before_class.push_back(t.detection.class_id);
  for (const Detection& d : detections) now.push_back(d.box), now_class.push_back(d.class_id);
  std::vector<int> id_of(detections.size(), 0);
  for (const auto& [p, d] : greedy_match_by_iou(before, now, min_iou_, before_class, now_class))
    id_of[size_t(d)] = previous_[size_t(p)].id;
  std::vector<Track> out;
  for (size_t d = 0; d < detections.size(); ++d)
    out.push_back({id_of[d] != 0 ? id_of[d] : next_id_++, detections[d]});
  previous_ = out;
  std::sort(out.begin(), out.end(), [](const Track& a, const Track& b) { return a.id < b.id; });
  return out;
}

}  // namespace osprey::vision::track
