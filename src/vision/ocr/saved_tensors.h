// Model inputs and outputs as .npy files in a directory, named
// <stage>-<n>.input.npy / <stage>-<n>.output.npy (stage det, cls or rec; n
// counts that model's runs from 0). This is how another runtime (ONNX
// Runtime in the tests) is fed exactly what osprey's preprocessing produced,
// and how its outputs are fed back through osprey's post-processing.
#pragma once

#include <string>

#include "vision/ocr/text_models.h"

namespace osprey::vision::ocr {

// Writes each input to DIR before running `model` on it.
TextModel dumping_inputs(TextModel model, const std::string& dir, const std::string& stage);

// Answers each run with the saved output; a run without one is a one-line
// error containing "no saved output" and naming the file it needs.
TextModel replaying_outputs(const std::string& dir, const std::string& stage);

}  // namespace osprey::vision::ocr
