// DB (Differentiable Binarization) post-processing: the text detector's
// probability map to oriented text boxes in image pixels, following
// PaddleOCR's DBPostProcess (quad boxes; score_mode "fast" or "slow").
#pragma once

#include <span>
#include <vector>

#include "vision/ocr/min_area_rect.h"

namespace osprey::vision::ocr {

enum class ScoreMode {
  kFast,  // mean over the box's minimum-area rectangle (PaddleOCR's "fast")
  kSlow,  // mean over the region itself, holes filled (PaddleOCR's "slow")
};

struct DbParams {
  float thresh = 0.3f;        // a map pixel is text when its probability exceeds this
  float box_thresh = 0.6f;    // mean probability a box needs to be kept
  float unclip_ratio = 1.5f;  // how far boxes are grown back (the map shrinks text)
  float min_size = 3;         // shorter side, in map pixels, below which a box is noise
  int max_candidates = 1000;  // connected regions looked at, in scan order
  bool use_dilation = false;  // grow the binarised map by a 2x2 dilation first
  ScoreMode score_mode = ScoreMode::kFast;
};

struct TextBox {
  Quad quad;        // image pixels, ordered as box_corners says
  float score = 0;  // mean map probability inside the unexpanded box
};

// The probability map, row-major `map_width` x `map_height`.
struct ProbabilityMap {
  std::span<const float> values;
  int width = 0, height = 0;
};

// Boxes in scan order of their regions. Coordinates are scaled from the map
// to `image_width` x `image_height` and rounded as PaddleOCR does.
std::vector<TextBox> db_boxes(const ProbabilityMap& map, int image_width, int image_height,
                              const DbParams& params = {});

// Mean of the map over the pixels whose centres lie inside `quad` (map
// coordinates); PaddleOCR's box_score_fast.
float mean_inside(const ProbabilityMap& map, const Quad& quad);

// Reading order: top to bottom, and left to right among boxes whose tops are
// within 10 pixels (PaddleOCR's sorted_boxes).
void sort_reading_order(std::vector<TextBox>& boxes);

}  // namespace osprey::vision::ocr
