// Reading text in a picture with three networks: detect text regions (DB),
// cut each out upright, check its direction (turn it 180° when flipped) and
// recognise it (CTC). The parameters are PaddleOCR's knobs for its PP-OCR
// models; docs/ocr.md gives the source of each default.
//
// Not a head of heads/head_registry.cpp: a head decodes one model's outputs
// at a fixed input size, while this runs three models, the detector at a
// size that follows the picture and the recogniser once per line at a
// width that follows the line.
#pragma once

#include <string>
#include <vector>

#include "vision/image.h"
#include "vision/ocr/ctc_decode.h"
#include "vision/ocr/db_postprocess.h"
#include "vision/ocr/text_models.h"
#include "vision/ocr/text_preprocess.h"

namespace osprey::vision::ocr {

// docs/ocr.md says where each default comes from. Three differ from
// PaddleOCR's command-line defaults (limit 960 "max", unclip 1.5, score
// "fast"): small pictures are scaled up (DetResizeForTest's own defaults),
// so closely set lines come apart in the map; boxes are grown a little more,
// so ascenders and descenders stay in the crop; and boxes are scored over
// their region, so a curved line of a photographed page is kept.
struct OcrParams {
  DetectorResize det_resize{736, LimitType::kMin, 4000};
  DbParams db{.unclip_ratio = 1.6f, .score_mode = ScoreMode::kSlow};
  int cls_height = 48, cls_width = 192;
  float cls_thresh = 0.9f;  // a line is turned when the classifier says 180° this surely
  int rec_height = 48;
  int rec_min_width = 320;   // lines are padded to at least this width
  int rec_batch = 6;         // and to the widest of the lines batched with them (by aspect ratio)
  int rec_max_width = 3200;  // and squeezed to at most this one (a bound on the tensor)
  float drop_score = 0.5f;   // recognitions less sure than this are left out
};

struct TextLine {
  std::string text;  // UTF-8
  float score = 0;   // recognition confidence
  Quad polygon;      // image pixels: top-left, top-right, bottom-right, bottom-left of the text
  float box_score = 0;
  bool turned = false;  // read after a 180° turn
};

struct OcrTiming {
  double preprocess_ms = 0;      // detector input
  double detection_ms = 0;       // detector run
  double postprocess_ms = 0;     // boxes from the map
  double classification_ms = 0;  // crops, direction
  double recognition_ms = 0;     // recogniser runs and decoding
  double total_ms = 0;
};

struct OcrResult {
  std::vector<TextLine> lines;  // reading order
  int detector_width = 0, detector_height = 0;
  OcrTiming timing;
};

// The recogniser's input width for each crop. PaddleOCR recognises lines in
// batches of `rec_batch` in order of aspect ratio, each padded to the widest
// of its batch (at least rec_min_width). The model mixes the whole width
// (SVTR attention), so the padding changes what it reads; running each line
// alone at its batch's width gives the same answers, and few widths.
std::vector<int> recognition_widths(const std::vector<Image>& crops, const OcrParams& params);

OcrResult read_text(const Image& image, const TextModels& models, const Charset& charset,
                    const OcrParams& params = {});

}  // namespace osprey::vision::ocr
