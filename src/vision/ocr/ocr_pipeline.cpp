// The OCR pipeline: detector, boxes, crops, direction, recognition.
#include "vision/ocr/ocr_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "vision/ocr/perspective_crop.h"
#include "vision/ocr/text_preprocess.h"

namespace osprey::vision::ocr {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

int64_t element_count(const FloatTensor& t) {
  int64_t n = 1;
  for (const int64_t d : t.shape) {
    OSPREY_CHECK(d >= 0, "OCR: negative dimension in a model output");
    n *= d;
  }
  return n;
}

void check_output(const FloatTensor& t, const char* model) {
  OSPREY_CHECK(element_count(t) == static_cast<int64_t>(t.values.size()),
               "{}: output shape and value count disagree ({} values)", model, t.values.size());
}

// PaddleOCR's filter_tag_det_res: keep boxes inside the picture and drop
// the slivers.
std::vector<TextBox> clip_boxes(std::vector<TextBox> boxes, int width, int height) {
  std::vector<TextBox> kept;
  for (TextBox& box : boxes) {
    for (Point& p : box.quad) {
      p.x = std::clamp(p.x, 0.0f, static_cast<float>(width - 1));
      p.y = std::clamp(p.y, 0.0f, static_cast<float>(height - 1));
    }
    const auto side = [&box](size_t a, size_t b) {
      return static_cast<int>(std::hypot(box.quad[a].x - box.quad[b].x, box.quad[a].y - box.quad[b].y));
    };
    if (side(0, 1) <= 3 || side(0, 3) <= 3) continue;
    kept.push_back(box);
  }
  return kept;
}

// Detector input through boxes in reading order.
std::vector<TextBox> detect(const Image& rgb, const TextModels& models, const OcrParams& params,
                            OcrResult& result) {
  auto start = Clock::now();
  const Size size = detector_input_size(rgb.width, rgb.height, params.det_resize);
  result.detector_width = size.width;
  result.detector_height = size.height;
  const FloatTensor input = to_tensor(rgb, size, size.width, kDetectorNormalization);
  result.timing.preprocess_ms = ms_since(start);

  start = Clock::now();
  const FloatTensor map = models.detector(input);
  result.timing.detection_ms = ms_since(start);

  start = Clock::now();
  check_output(map, "text detector");
  // [1,1,H,W] from ONNX, [1,H,W,1] from an NHWC model: the same values.
  OSPREY_CHECK(map.values.size() == static_cast<size_t>(size.width) * static_cast<size_t>(size.height),
               "text detector: expected a {}x{} map, got {} values", size.width, size.height,
               map.values.size());
  std::vector<TextBox> boxes =
      db_boxes({map.values, size.width, size.height}, rgb.width, rgb.height, params.db);
  boxes = clip_boxes(std::move(boxes), rgb.width, rgb.height);
  sort_reading_order(boxes);
  result.timing.postprocess_ms = ms_since(start);
  return boxes;
}

// PaddleOCR's get_rotate_crop_image: the quad straightened; a crop much
// taller than wide is vertical text laid on its side.
Image upright_crop(const Image& rgb, const Quad& quad) {
  Image crop = crop_quad(rgb, quad);
  if (!crop.empty() && crop.height >= 1.5 * crop.width) crop = rotate_quarter_ccw(crop);
  return crop;
}

bool is_upside_down(const Image& crop, const TextModels& models, const OcrParams& params) {
  if (!models.classifier) return false;
  const FloatTensor out = models.classifier(line_tensor(crop, params.cls_height, params.cls_width));
  check_output(out, "text direction classifier");
  OSPREY_CHECK(out.values.size() == 2, "text direction classifier: expected 2 scores (0°, 180°), got {}",
               out.values.size());
  return out.values[1] > out.values[0] && out.values[1] >= params.cls_thresh;
}

Recognition recognize(const Image& crop, int width, const TextModels& models, const Charset& charset,
                      const OcrParams& params) {
  const FloatTensor out = models.recognizer(line_tensor(crop, params.rec_height, width));
  check_output(out, "text recognizer");
  const int64_t classes = charset.size();
  OSPREY_CHECK(out.shape.size() == 3 && out.shape[0] == 1 && out.shape[2] == classes,
               "text recognizer: expected [1, steps, {}] (the character list plus blank and space), got {} "
               "dimensions ending in {}",
               classes, out.shape.size(), out.shape.empty() ? 0 : out.shape.back());
  return ctc_greedy_decode(out.values, static_cast<int>(out.shape[1]), charset);
}

}  // namespace

std::vector<int> recognition_widths(const std::vector<Image>& crops, const OcrParams& params) {
  std::vector<double> aspect(crops.size());
  for (size_t i = 0; i < crops.size(); ++i) aspect[i] = static_cast<double>(crops[i].width) / crops[i].height;
  std::vector<size_t> order(crops.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&aspect](size_t a, size_t b) { return aspect[a] < aspect[b]; });
  std::vector<int> widths(crops.size());
  const auto batch = static_cast<size_t>(std::max(params.rec_batch, 1));
  for (size_t begin = 0; begin < order.size(); begin += batch) {
    const size_t end = std::min(begin + batch, order.size());
    double widest = static_cast<double>(params.rec_min_width) / params.rec_height;
    for (size_t k = begin; k < end; ++k) widest = std::max(widest, aspect[order[k]]);
    const double width = std::min(params.rec_height * widest, static_cast<double>(params.rec_max_width));
    for (size_t k = begin; k < end; ++k) widths[order[k]] = static_cast<int>(width);
  }
  return widths;
}

OcrResult read_text(const Image& image, const TextModels& models, const Charset& charset,
                    const OcrParams& params) {
  OSPREY_CHECK(models.detector && models.recognizer, "OCR needs a detector and a recognizer");
  OSPREY_CHECK(!image.empty(), "OCR: empty picture");
  const auto start = Clock::now();
  const Image rgb = to_rgb(image);
  OcrResult result;
  const std::vector<TextBox> boxes = detect(rgb, models, params, result);

  std::vector<TextBox> kept;
  std::vector<Image> crops;
  std::vector<bool> turned;
  auto stage = Clock::now();
  for (const TextBox& box : boxes) {
    Image crop = upright_crop(rgb, box.quad);
    if (crop.empty()) continue;
    turned.push_back(is_upside_down(crop, models, params));
    if (turned.back()) crop = rotate_half(crop);
    kept.push_back(box);
    crops.push_back(std::move(crop));
  }
  result.timing.classification_ms = ms_since(stage);

  stage = Clock::now();
  const std::vector<int> widths = recognition_widths(crops, params);
  for (size_t i = 0; i < crops.size(); ++i) {
    const Recognition read = recognize(crops[i], widths[i], models, charset, params);
    if (!(read.score >= params.drop_score)) continue;  // NaN scores too
    result.lines.push_back({read.text, read.score, kept[i].quad, kept[i].score, turned[i]});
  }
  result.timing.recognition_ms = ms_since(stage);
  result.timing.total_ms = ms_since(start);
  return result;
}

}  // namespace osprey::vision::ocr
