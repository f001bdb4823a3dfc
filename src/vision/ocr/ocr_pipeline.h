// Reading text in a picture with three networks: detect text regions (DB),
// cut each out upright, check its direction (turn it 180° when flipped) and
// recognise it (CTC). The parameters are PaddleOCR's published defaults for
// its PP-OCR models; docs/ocr.md gives their sources.
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

namespace osprey::vision::ocr {

struct OcrParams {
  int det_limit_side = 960;  // longer side of the detector input, at most (limit_type "max")
  DbParams db;
  int cls_height = 48, cls_width = 192;
  float cls_thresh = 0.9f;  // a line is turned when the classifier says 180° this surely
  int rec_height = 48;
  int rec_min_width = 320;   // lines are padded to at least this width
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

OcrResult read_text(const Image& image, const TextModels& models, const Charset& charset,
                    const OcrParams& params = {});

}  // namespace osprey::vision::ocr
