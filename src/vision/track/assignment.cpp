#include "vision/track/assignment.h"

#include <algorithm>
#include <limits>

namespace osprey::vision::track {
namespace {

// Shortest augmenting paths with row/column potentials, O(n^2 m) for
// n <= m rows. Rows and columns are 1-based inside; column 0 is the free slot.
std::vector<int> assign_rows_to_columns(const std::vector<std::vector<double>>& cost, size_t n, size_t m) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(m + 1, 0);
  std::vector<size_t> row_of(m + 1, 0), way(m + 1, 0);
  for (size_t row = 1; row <= n; ++row) {
    row_of[0] = row;
    size_t col0 = 0;
    std::vector<double> min_slack(m + 1, kInf);
    std::vector<bool> used(m + 1, false);
    do {
      used[col0] = true;
      const size_t r = row_of[col0];
      double delta = kInf;
      size_t col1 = 0;
      for (size_t c = 1; c <= m; ++c) {
        if (used[c]) continue;
        const double slack = cost[r - 1][c - 1] - u[r] - v[c];
        if (slack < min_slack[c]) min_slack[c] = slack, way[c] = col0;
        if (min_slack[c] < delta) delta = min_slack[c], col1 = c;
      }
      for (size_t c = 0; c <= m; ++c) {
        if (used[c]) {
          u[row_of[c]] += delta;
          v[c] -= delta;
        } else {
          min_slack[c] -= delta;
        }
      }
      col0 = col1;
    } while (row_of[col0] != 0);
    do {  // flip the augmenting path
      const size_t prev = way[col0];
      row_of[col0] = row_of[prev];
      col0 = prev;
    } while (col0 != 0);
  }
  std::vector<int> column_of_row(n, -1);
  for (size_t c = 1; c <= m; ++c)
    if (row_of[c] != 0) column_of_row[row_of[c] - 1] = int(c - 1);
  return column_of_row;
}

}  // namespace

std::vector<int> min_cost_assignment(const std::vector<std::vector<double>>& cost) {
  const size_t rows = cost.size();
  if (rows == 0) return {};
  const size_t cols = cost[0].size();
  if (cols == 0) return std::vector<int>(rows, -1);
  if (rows <= cols) return assign_rows_to_columns(cost, rows, cols);
  // More rows than columns: solve the transpose, then invert the mapping.
  std::vector<std::vector<double>> transposed(cols, std::vector<double>(rows));
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) transposed[c][r] = cost[r][c];
  const std::vector<int> row_of_col = assign_rows_to_columns(transposed, cols, rows);
  std::vector<int> column_of_row(rows, -1);
  for (size_t c = 0; c < cols; ++c)
    if (row_of_col[c] >= 0) column_of_row[size_t(row_of_col[c])] = int(c);
  return column_of_row;
}

std::vector<std::pair<int, int>> greedy_match_by_iou(const std::vector<Box>& a, const std::vector<Box>& b,
                                                     float min_iou, const std::vector<int>& a_class,
                                                     const std::vector<int>& b_class) {
  struct Candidate {
    float overlap;
    int i, j;
  };
  std::vector<Candidate> candidates;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < b.size(); ++j) {
      const float overlap = iou(a[i], b[j]);
      if (overlap >= min_iou && a_class[i] == b_class[j]) candidates.push_back({overlap, int(i), int(j)});
    }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& x, const Candidate& y) { return x.overlap > y.overlap; });
  std::vector<bool> a_used(a.size(), false), b_used(b.size(), false);
  std::vector<std::pair<int, int>> pairs;
  for (const Candidate& c : candidates) {
    if (a_used[c.i] || b_used[c.j]) continue;
    a_used[c.i] = b_used[c.j] = true;
    pairs.emplace_back(c.i, c.j);
  }
  return pairs;
}

}  // namespace osprey::vision::track
