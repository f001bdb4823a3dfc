#include "vision/track/id_switches.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace osprey::vision::track {
namespace {

Point centre(const Box& b) {
  return {(b.xmin + b.xmax) / 2, (b.ymin + b.ymax) / 2};
}

bool contains(const Box& b, Point p) {
  return p.x >= b.xmin && p.x <= b.xmax && p.y >= b.ymin && p.y <= b.ymax;
}

}  // namespace

void IdSwitchCounter::add(int64_t frame, const std::vector<Track>& tracks) {
  std::set<int> present;
  for (const Track& t : tracks) present.insert(t.id);
  for (const Track& t : tracks) {
    const Box& box = t.detection.box;
    auto it = seen_.find(t.id);
    if (it != seen_.end()) {
      const Box& last = it->second.box;
      const Point a = centre(last), b = centre(box);
      if (std::hypot(a.x - b.x, a.y - b.y) > std::max(last.width(), last.height())) ++count_.jumps;
      continue;
    }
    ++count_.distinct_ids;
    // A newcomer where a recently vanished ID was last seen.
    for (auto& [id, seen] : seen_) {
      if (present.count(id) || seen.blamed || frame - seen.frame > window_) continue;
      if (contains(seen.box, centre(box))) {
        seen.blamed = true;
        ++count_.fragments;
        break;
      }
    }
  }
  for (const Track& t : tracks) seen_[t.id] = {t.detection.box, frame, false};
}

}  // namespace osprey::vision::track
