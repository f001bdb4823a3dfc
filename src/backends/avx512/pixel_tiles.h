// How the sparse 1x1 convolutions (sparse_conv.cpp, float; int8_sparse_conv_avx2.cpp)
// share their tiles of pixels out over the pool's tasks: thread t's tiles
// cover the pixels of its share of the rows (core/split.h), so that it reads
// the rows its own core wrote, as the ops around split them. A share has
// share_tiles tiles, the last ones empty when it is shorter. With fewer rows
// than threads the output channels are split too, each part transposing its
// tile again for itself (with a share of rows each, a thread does better to
// keep its own rows: pose_detection's 7x7 and 14x14 layers lost their
// transposes and the other core's lines otherwise).
#pragma once

#include <pthreadpool.h>

#include <algorithm>
#include <cstddef>

#include "core/shape.h"
#include "core/split.h"

namespace osprey {

struct PixelTiles {
  int tile = 0;     // pixels a tile
  int cout = 0;     // output channels
  int oc_step = 0;  // output channels a task: all, or a multiple of 16
  int threads = 1;
  size_t rows = 0, row_pixels = 0, share_tiles = 0;

  // The pool's 2-D range: tiles x channel parts.
  size_t tiles() const { return static_cast<size_t>(threads) * share_tiles; }
  size_t parts() const { return (static_cast<size_t>(cout) + oc_step - 1) / oc_step; }

  // Task (tile_index, part)'s first pixel, pixel count and output channels
  // [oc0, oc1); false when the tile is past its share's end.
  bool task(size_t tile_index, size_t part, size_t& p0, int& count, int& oc0, int& oc1) const {
    const int t = static_cast<int>(tile_index / share_tiles);
    p0 = share_begin(rows, threads, t) * row_pixels + tile_index % share_tiles * static_cast<size_t>(tile);
    const size_t end = share_begin(rows, threads, t + 1) * row_pixels;
    if (p0 >= end) return false;
    count = static_cast<int>(std::min<size_t>(static_cast<size_t>(tile), end - p0));
    oc0 = static_cast<int>(part) * oc_step;
    oc1 = std::min(cout, oc0 + oc_step);
    return true;
  }
};

// The tiles of `tile` pixels over an input of `shape` (`pixels` of them,
// more than 0) for `cout` output channels on `threads` threads.
inline PixelTiles plan_pixel_tiles(const Shape& shape, size_t pixels, int tile, int cout, int threads) {
  PixelTiles p;
  p.tile = tile;
  p.cout = cout;
  p.oc_step = cout;
  p.threads = threads;
  const size_t rows = split_rows(shape);
  p.rows = rows > 0 && pixels % rows == 0 ? rows : pixels;
  p.row_pixels = pixels / p.rows;
  p.share_tiles = (largest_share(p.rows, threads) * p.row_pixels + tile - 1) / tile;
  if (p.rows < static_cast<size_t>(threads)) {
    const size_t parts = std::min<size_t>((4 * static_cast<size_t>(threads) + p.tiles() - 1) / p.tiles(),
                                          (static_cast<size_t>(cout) + 15) / 16);
    p.oc_step = (cout + static_cast<int>(parts) - 1) / static_cast<int>(parts);
    p.oc_step = (p.oc_step + 15) / 16 * 16;
  }
  return p;
}

// Runs tile(p0, count, oc0, oc1) for every task of `tiles` on `pool`: pixels
// [p0, p0 + count), output channels [oc0, oc1).
template <typename F>
void run_pixel_tiles(pthreadpool* pool, const PixelTiles& tiles, const F& tile) {
  const auto task = [&](size_t index, size_t part) {
    size_t p0;
    int count, oc0, oc1;
    if (tiles.task(index, part, p0, count, oc0, oc1)) tile(p0, count, oc0, oc1);
  };
  pthreadpool_parallelize_2d(pool, task, tiles.tiles(), tiles.parts());
}

}  // namespace osprey
