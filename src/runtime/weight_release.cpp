#include "runtime/weight_release.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "core/error.h"

namespace osprey {

namespace {

size_t stored_bytes(const Tensor& t) {
  return t.sparsity ? t.sparsity->value_bytes : t.num_bytes();
}

// Gives the whole pages of a dead constant back to the system. Its bytes
// (file mapping or folded buffer) are never read again. Returns how many.
size_t release_pages(Tensor& t) {
  static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(t.data);
  const uintptr_t first = (begin + page - 1) / page * page;
  const uintptr_t last = (begin + stored_bytes(t)) / page * page;
  t.data = nullptr;
  if (last <= first || madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED) != 0) return 0;
  return last - first;
}

}  // namespace

WeightRelease::WeightRelease(Graph& graph, const std::vector<const Op*>& plan, bool enabled)
    : graph_(graph),
      enabled_(enabled),
      constants_read_(plan.size()),
      unbuilt_readers_(graph.tensors.size(), 0),
      step_built_(plan.size(), false) {
  for (size_t s = 0; s < plan.size(); ++s) {
    for (int t : plan[s]->inputs) {
      if (t < 0 || !graph.tensors[static_cast<size_t>(t)].is_constant) continue;
      std::vector<int>& read = constants_read_[s];
      if (std::find(read.begin(), read.end(), t) != read.end()) continue;
      read.push_back(t);
      ++unbuilt_readers_[static_cast<size_t>(t)];
    }
  }
  for (size_t s = 0; s < plan.size(); ++s) view_.push_back(static_cast<int>(s));
}

void WeightRelease::built(int first_step, int last_step) {
  OSPREY_CHECK(first_step >= 0 && first_step <= last_step && last_step < static_cast<int>(view_.size()),
               "steps {}..{} are not in the plan", first_step, last_step);
  bool any = false;
  for (int s = first_step; s <= last_step; ++s) {
    const int original = view_[static_cast<size_t>(s)];
    if (original < 0 || step_built_[static_cast<size_t>(original)]) continue;
    step_built_[static_cast<size_t>(original)] = true;
    for (int t : constants_read_[static_cast<size_t>(original)]) --unbuilt_readers_[static_cast<size_t>(t)];
    any = true;
  }
  if (any) release_finished();
}

void WeightRelease::release_finished() {
  if (!enabled_) return;
  std::vector<bool> needed(graph_.tensors.size(), false);
  for (int t : graph_.outputs) needed[static_cast<size_t>(t)] = true;
  std::vector<std::pair<uintptr_t, uintptr_t>> needed_ranges;
  for (size_t t = 0; t < graph_.tensors.size(); ++t) {
    const Tensor& tensor = graph_.tensors[t];
    if (!tensor.is_constant || !tensor.data) continue;
    if (unbuilt_readers_[t] > 0) needed[t] = true;
    if (!needed[t]) continue;
    const auto begin = reinterpret_cast<uintptr_t>(tensor.data);
    needed_ranges.emplace_back(begin, begin + stored_bytes(tensor));
  }
  for (size_t t = 0; t < graph_.tensors.size(); ++t) {
    Tensor& tensor = graph_.tensors[t];
    if (!tensor.is_constant || !tensor.data || needed[t]) continue;
    const auto begin = reinterpret_cast<uintptr_t>(tensor.data);
    const uintptr_t end = begin + stored_bytes(tensor);
    // Constants may share bytes (deduplicated buffers): spare those still needed.
    const bool shared = std::any_of(needed_ranges.begin(), needed_ranges.end(),
                                    [&](const auto& r) { return r.first < end && begin < r.second; });
    if (!shared) released_bytes_ += release_pages(tensor);
  }
}

}  // namespace osprey
