// `osprey ocr IMAGE`: read the text in a picture with the PP-OCR detector,
// direction classifier and recogniser; print the lines (table or JSON) and
// optionally draw them.
#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "backend_options.h"
#include "commands.h"
#include "io/json_text.h"
#include "onnx/load_model.h"
#include "vision/image_io.h"
#include "vision/model_metadata.h"
#include "vision/ocr/annotate.h"
#include "vision/ocr/interpreter_text_model.h"
#include "vision/ocr/ocr_pipeline.h"
#include "vision/ocr/saved_tensors.h"

namespace osprey::cli {
namespace {

namespace ocr = vision::ocr;

struct OcrOptions {
  std::string image;
  BackendChoice backend;
  std::string det, cls, rec, keys;  // empty: the zoo's files in the cache
  bool json = false;
  std::string out;
  std::string dump_tensors;   // write every model input here
  std::string model_outputs;  // take every model output from here instead of running the models
  std::string det_limit_type = "min";
  std::string det_score_mode = "slow";
  ocr::OcrParams params;
};

std::string cached(const std::string& given, const std::string& relative) {
  return given.empty() ? vision::cache_dir() + "/" + relative : given;
}

double round_to(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

nlohmann::ordered_json to_json(const std::string& path, const vision::Image& image,
                               const ocr::OcrResult& result) {
  nlohmann::ordered_json texts = nlohmann::ordered_json::array();
  for (const ocr::TextLine& line : result.lines) {
    nlohmann::ordered_json polygon = nlohmann::ordered_json::array();
    for (const vision::Point& p : line.polygon) polygon.push_back({round_to(p.x, 1), round_to(p.y, 1)});
    texts.push_back({{"text", line.text}, {"score", round_to(line.score, 4)}, {"polygon", polygon}});
  }
  const ocr::OcrTiming& t = result.timing;
  return {{"image", {{"path", path}, {"width", image.width}, {"height", image.height}}},
          {"texts", texts},
          {"timing_ms",
           {{"preprocess", round_to(t.preprocess_ms, 3)},
            {"detection", round_to(t.detection_ms, 3)},
            {"postprocess", round_to(t.postprocess_ms, 3)},
            {"classification", round_to(t.classification_ms, 3)},
            {"recognition", round_to(t.recognition_ms, 3)},
            {"total", round_to(t.total_ms, 3)}}}};
}

void print_table(const std::string& path, const vision::Image& image, const ocr::OcrResult& result) {
  fmt::print("{}: {}x{}, detector input {}x{}, {} text line(s)\n", path, image.width, image.height,
             result.detector_width, result.detector_height, result.lines.size());
  int index = 1;
  for (const ocr::TextLine& line : result.lines) {
    const vision::Point& p = line.polygon[0];
    fmt::print("{:>3}  {:.3f}  ({:.0f},{:.0f})  {}\n", index++, line.score, p.x, p.y, line.text);
  }
  const ocr::OcrTiming& t = result.timing;
  fmt::print(
      "time: preprocess {:.1f} ms, detection {:.1f} ms, postprocess {:.1f} ms, classification {:.1f} ms, "
      "recognition {:.1f} ms, total {:.1f} ms\n",
      t.preprocess_ms, t.detection_ms, t.postprocess_ms, t.classification_ms, t.recognition_ms, t.total_ms);
}

void run_ocr(const OcrOptions& options) {
  const vision::Image image = vision::read_image(options.image);
  const ocr::Charset charset = ocr::Charset::load(cached(options.keys, "files/ppocr_keys_v1.txt"));
  // The backends must outlive the models, which load lazily per input shape.
  const BackendStack backends = options.backend.make();
  const InterpreterOptions interpreter_options = backends.options();
  // The .onnx models are imported once per input shape; PP-OCR's exported
  // models name their one input "x".
  const ocr::InterpreterLoader loader = [&](const std::string& path, const std::vector<int64_t>& nchw) {
    if (!onnx::is_onnx_path(path)) return Interpreter::load(path, interpreter_options);
    return onnx::load_model(path, onnx::ImportOptions{{{"x", nchw}}}, interpreter_options);
  };
  const auto model = [&](const std::string& given, const char* zoo_name, const char* stage) {
    ocr::TextModel m =
        options.model_outputs.empty()
            ? ocr::interpreter_text_model(cached(given, fmt::format("onnx/{}.onnx", zoo_name)), loader)
            : ocr::replaying_outputs(options.model_outputs, stage);
    return options.dump_tensors.empty() ? m : ocr::dumping_inputs(std::move(m), options.dump_tensors, stage);
  };
  const ocr::TextModels models{model(options.det, "ch_PP-OCRv4_det_infer", "det"),
                               model(options.cls, "ch_ppocr_mobile_v2.0_cls_infer", "cls"),
                               model(options.rec, "ch_PP-OCRv4_rec_infer", "rec")};
  ocr::OcrParams params = options.params;
  params.det_resize.limit_type =
      options.det_limit_type == "max" ? ocr::LimitType::kMax : ocr::LimitType::kMin;
  params.db.score_mode = options.det_score_mode == "fast" ? ocr::ScoreMode::kFast : ocr::ScoreMode::kSlow;
  const ocr::OcrResult result = ocr::read_text(image, models, charset, params);

  if (!options.out.empty()) vision::write_png(options.out, ocr::annotate_text(image, result.lines));
  if (options.json) {
    fmt::print("{}\n", json_text(to_json(options.image, image, result)));
  } else {
    print_table(options.image, image, result);
    if (!options.out.empty()) fmt::print("wrote {}\n", options.out);
  }
}

}  // namespace

void add_ocr_command(CLI::App& app) {
  auto options = std::make_shared<OcrOptions>();
  CLI::App* cmd = app.add_subcommand("ocr", "Read the text in a JPEG/PNG image (PP-OCR models)");
  cmd->add_option("image", options->image, "image file (JPEG or PNG)")->required();
  options->backend.add_options(cmd);
  cmd->add_option("--det", options->det,
                  "text detector (default $OSPREY_CACHE/onnx/ch_PP-OCRv4_det_infer.onnx)");
  cmd->add_option(
      "--cls", options->cls,
      "text direction classifier (default $OSPREY_CACHE/onnx/ch_ppocr_mobile_v2.0_cls_infer.onnx)");
  cmd->add_option("--rec", options->rec,
                  "text recognizer (default $OSPREY_CACHE/onnx/ch_PP-OCRv4_rec_infer.onnx)");
  cmd->add_option("--keys", options->keys,
                  "the recognizer's character list (default $OSPREY_CACHE/files/ppocr_keys_v1.txt)");
  ocr::OcrParams& params = options->params;
  cmd->add_option("--det-limit-side", params.det_resize.limit_side,
                  "detector input: the side --det-limit-type bounds (PaddleOCR's det_limit_side_len)")
      ->check(CLI::Range(32, 4000))
      ->capture_default_str();
  cmd->add_option("--det-limit-type", options->det_limit_type,
                  "max: scale down so the longer side is at most --det-limit-side; min: scale up so the "
                  "shorter side is at least that")
      ->check(CLI::IsMember({"min", "max"}))
      ->capture_default_str();
  cmd->add_option(
         "--det-max-side", params.det_resize.max_side,
         "detector input: the longer side is scaled down to this at most (PaddleOCR's max_side_limit)")
      ->check(CLI::Range(32, 4096))
      ->capture_default_str();
  cmd->add_option("--det-thresh", params.db.thresh, "detector map: a pixel is text above this")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  cmd->add_option("--det-box-thresh", params.db.box_thresh, "detector map: mean a box needs to be kept")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  cmd->add_option("--unclip-ratio", params.db.unclip_ratio, "how far text boxes are grown back")
      ->check(CLI::Range(0.0f, 10.0f))
      ->capture_default_str();
  cmd->add_option("--det-score-mode", options->det_score_mode,
                  "box score: fast, the mean over its rectangle; slow, over the text region itself")
      ->check(CLI::IsMember({"fast", "slow"}))
      ->capture_default_str();
  cmd->add_flag("--use-dilation", params.db.use_dilation, "dilate the binarised detector map (2x2) first");
  cmd->add_option("--rec-batch-num", params.rec_batch,
                  "lines are padded to the widest of this many (by aspect ratio), as PaddleOCR batches them")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--drop-score", params.drop_score, "leave out lines recognised less surely than this")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  cmd->add_flag("--json", options->json, "print one JSON object instead of a table");
  cmd->add_option("-o,--out", options->out, "write the picture with the text drawn beside it (PNG)");
  cmd->add_option("--dump-tensors", options->dump_tensors,
                  "write each model input to DIR/<det|cls|rec>-<n>.input.npy (NCHW float32)");
  cmd->add_option("--model-outputs", options->model_outputs,
                  "do not run the models: take each output from DIR/<det|cls|rec>-<n>.output.npy");
  cmd->callback([options] { run_ocr(*options); });
}

}  // namespace osprey::cli
