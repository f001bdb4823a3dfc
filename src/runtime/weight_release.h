// Step 3 of the backend contract (delegate.h): constants go back to the
// system once every step reading them has a kernel holding its own copy.
#pragma once

#include <vector>

#include "graph/graph.h"
#include "runtime/delegate.h"

namespace osprey {

class WeightRelease final : public PackedSteps {
 public:
  // `plan`: the steps before any backend claimed some. With `enabled` false
  // nothing is ever released.
  WeightRelease(Graph& graph, const std::vector<const Op*>& plan, bool enabled);

  // Releases the constants no step reads (only load-time folding did).
  void release_unread() { release_finished(); }
  // The steps a backend is about to see: step s of its plan is original step
  // view[s], or -1 for a run an earlier backend claimed.
  void set_view(std::vector<int> view) { view_ = std::move(view); }
  // `first_step`, `last_step` are positions in the current view.
  void built(int first_step, int last_step) override;
  // The bytes given back to the system so far (whole pages).
  size_t released_bytes() const { return released_bytes_; }

 private:
  void release_finished();

  Graph& graph_;
  bool enabled_;
  std::vector<std::vector<int>> constants_read_;  // per original step, each constant once
  std::vector<int> unbuilt_readers_;              // per tensor: steps reading it not yet built
  std::vector<bool> step_built_;                  // per original step
  std::vector<int> view_;
  size_t released_bytes_ = 0;
};

}  // namespace osprey
