// A ground-truth-free count of identity errors in a tracker's output, so two
// trackers can be compared on a clip nobody has labelled. Two events count:
//  - a jump: an ID reappears with its box centre farther from where it was
//    last seen than that box's larger side (the ID moved to another object);
//  - a fragment: a new ID starts with its box centre inside the last box of
//    an ID that vanished at most `window` frames ago (the same object was
//    given a new ID). Each vanished ID is blamed at most once.
// A walking person moves far less than their own height between frames, so
// real motion is not counted; two people crossing can hide a swap, which
// makes this a lower bound on switches.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "vision/track/tracker.h"

namespace osprey::vision::track {

struct IdSwitchCount {
  int64_t jumps = 0, fragments = 0;
  int64_t distinct_ids = 0;
  int64_t total() const { return jumps + fragments; }
};

class IdSwitchCounter {
 public:
  explicit IdSwitchCounter(int window = 15) : window_(window) {}
  // The tracks reported for frame number `frame` (increasing).
  void add(int64_t frame, const std::vector<Track>& tracks);
  const IdSwitchCount& count() const { return count_; }

 private:
  struct Seen {
    Box box;
    int64_t frame = 0;
    bool blamed = false;
  };

  int window_;
  std::map<int, Seen> seen_;
  IdSwitchCount count_;
};

}  // namespace osprey::vision::track
