// How a step's work is split over threads, in one place: the thread pool
// hands out shares this way, kernels cut their items to match, and the
// memory planner expects each step's output written this way. A thread then
// mostly reads and writes lines its own core wrote before: on the Zen 5
// host whose vCPUs sat far apart, a line from the other core cost ~35 ns.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace osprey {

// The first of `count` items that thread `t` of `threads` takes: equal
// shares, the first count % threads threads one more.
inline size_t share_begin(size_t count, int threads, int t) {
  const size_t k = static_cast<size_t>(threads), i = static_cast<size_t>(t);
  return i * (count / k) + std::min(i, count % k);
}

// The most items a thread takes: the first share's.
inline size_t largest_share(size_t count, int threads) {
  return share_begin(count, threads, 1);
}

// The rows a tensor of `shape` is split by: all dimensions but an image's
// width and channels (N x H of NHWC), or all but the last; 0 for a scalar
// or a vector (split by elements).
template <typename Dim>
size_t split_rows(const std::vector<Dim>& shape) {
  if (shape.size() < 2) return 0;
  const size_t outer = shape.size() == 4 ? 2 : shape.size() - 1;
  size_t rows = 1;
  for (size_t d = 0; d < outer; ++d) rows *= static_cast<size_t>(std::max<Dim>(shape[d], 0));
  return rows;
}

}  // namespace osprey
