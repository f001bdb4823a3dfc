#include "vision/pipeline.h"

#include "core/error.h"
#include "vision/heads/postprocess_head.h"

namespace osprey::vision {
namespace {

using Clock = std::chrono::steady_clock;

// Fits the image into the model input as the spec says and writes the
// normalised pixels into `input`. Returns the mapping back to the image.
InputTransform prepare_input(const Image& image, const ModelSpec& spec, Tensor& input) {
  OSPREY_CHECK(input.rank() == 4 && input.dim(1) == spec.input.height && input.dim(2) == spec.input.width &&
                   input.dim(3) == 3,
               "model '{}' has input shape {} but its metadata says {}x{} RGB", spec.name,
               shape_str(input.shape), spec.input.width, spec.input.height);
  const InputTransform transform =
      make_input_transform(image.width, image.height, spec.input.width, spec.input.height, spec.input.resize);
  fill_input_tensor(render_input(image, transform), spec.input.normalization, input);
  return transform;
}

}  // namespace

Pipeline::Pipeline(const std::string& model_path, ModelSpec spec, const InterpreterOptions& options)
    : spec_(std::move(spec)), interpreter_(Interpreter::load(model_path, options)) {
  OSPREY_CHECK(spec_.head != nullptr, "model '{}' has no task head", spec_.name);
  OSPREY_CHECK(interpreter_->num_inputs() >= 1, "model '{}' has no inputs", spec_.name);
  // A model that ends in its own detection post-process is read through it, whatever its manifest head.
  if (auto own = PostprocessHead::from_graph(interpreter_->graph())) spec_.head = std::move(own);
  spec_.head->check_outputs(spec_.name, interpreter_->num_outputs());
}

double Pipeline::milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

InputTransform Pipeline::infer(const Image& image, StageTiming& timing) {
  auto start = Clock::now();
  const InputTransform geometry = prepare_input(image, spec_, interpreter_->input(0));
  timing.preprocess_ms = milliseconds_since(start);

  start = Clock::now();
  interpreter_->invoke();
  timing.inference_ms = milliseconds_since(start);
  return geometry;
}

void Pipeline::infer_roi(const Image& image, const RotatedRect& roi, BorderMode border, StageTiming& timing) {
  auto start = Clock::now();
  Tensor& input = interpreter_->input(0);
  OSPREY_CHECK(input.rank() == 4 && input.dim(1) == spec_.input.height && input.dim(2) == spec_.input.width &&
                   input.dim(3) == 3,
               "model '{}' has input shape {} but its metadata says {}x{} RGB", spec_.name,
               shape_str(input.shape), spec_.input.width, spec_.input.height);
  const Image rgb = image.channels == 3 ? Image() : to_rgb(image);
  const Image& source = image.channels == 3 ? image : rgb;
  const Normalization& norm = spec_.input.normalization;
  OSPREY_CHECK(input.data != nullptr, "input tensor '{}' has no buffer", input.name);
  if (input.type == DType::kFloat32) {
    // Straight to floats, as MediaPipe's converter does: no rounding to bytes.
    warp_roi_to_floats(source, roi, spec_.input.width, spec_.input.height, border, norm.lo, norm.hi,
                       input.data_as<float>());
  } else {
    fill_input_tensor(warp_roi(source, roi, spec_.input.width, spec_.input.height, border), norm, input);
  }
  timing.preprocess_ms = milliseconds_since(start);

  start = Clock::now();
  interpreter_->invoke();
  timing.inference_ms = milliseconds_since(start);
}

ModelOutputs Pipeline::outputs() {
  return outputs_of(*interpreter_, spec_.name);
}

}  // namespace osprey::vision
