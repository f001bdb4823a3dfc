// A task head turns a model's output tensors into a typed result in image
// pixels (detections, a mask, ...). Each head type lives in its own file, is
// named in zoo/models.json ("head": {"type": ...}) and is listed once in
// head_registry.cpp; vision/pipeline.h runs any of them.
//
// A head class H provides, besides the virtuals below:
//   static constexpr std::string_view kType;        // its manifest name
//   using Result = ...;                             // what decode returns
//   Result decode(const ModelOutputs&, const InputTransform&) const;
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "graph/tensor.h"
#include "vision/manifest_fields.h"
#include "vision/preprocess.h"

namespace osprey::vision {

// The output tensors of one inference, by index.
class ModelOutputs {
 public:
  ModelOutputs(std::string model, std::vector<const Tensor*> tensors)
      : model_(std::move(model)), tensors_(std::move(tensors)) {}

  int size() const { return static_cast<int>(tensors_.size()); }
  // Throws when the model has no output `index`.
  const Tensor& at(int index) const;

 private:
  std::string model_;
  std::vector<const Tensor*> tensors_;
};

// The outputs of anything with num_outputs() / output(i): an Interpreter, a
// quantizer GraphRunner.
template <typename Runner>
ModelOutputs outputs_of(Runner& runner, std::string model) {
  std::vector<const Tensor*> tensors;
  for (int i = 0; i < runner.num_outputs(); ++i) tensors.push_back(&runner.output(i));
  return ModelOutputs(std::move(model), std::move(tensors));
}

// Tensor values as floats: float32 copied, uint8/int8 dequantized.
std::vector<float> tensor_values(const Tensor& tensor);

// A model output the head clamps to [-limit, limit] before reading it, so
// values beyond give the same result (a detector's score logits).
struct OutputBound {
  int output = 0;
  float limit = 0;
  std::string field;  // the manifest field that sets it
};

class Head {
 public:
  virtual ~Head() = default;
  virtual std::string_view type() const = 0;
  // Checks the output indices the head reads against the loaded model.
  virtual void check_outputs(const std::string& model, int num_outputs) const = 0;
  // What the quantizer need not represent (osprey quantize).
  virtual std::vector<OutputBound> output_bounds() const { return {}; }
};

// Builds a head from its manifest object (model.head); errors name the field.
using HeadParser = std::shared_ptr<const Head> (*)(const ManifestFields& head);

// Rethrows the error being handled with the head's path in front, unless it
// already names a field of the head.
[[noreturn]] void rethrow_naming_head(const ManifestFields& head);

// `build()`, a parser's body: every error it throws names the head's field.
template <typename Build>
std::shared_ptr<const Head> parse_naming_errors(const ManifestFields& head, Build&& build) {
  try {
    return build();
  } catch (const Error&) {
    rethrow_naming_head(head);
  }
}

// The parser registered for `type`, or nullptr.
HeadParser find_head_parser(std::string_view type);
// Every registered type, sorted, for error messages and docs.
std::vector<std::string> head_types();
// Reads "type" and hands the object to that head's parser; an unknown type is
// a one-line error listing the known ones.
std::shared_ptr<const Head> parse_head(const ManifestFields& head);

}  // namespace osprey::vision
