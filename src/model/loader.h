// Reads a .tflite flatbuffer into osprey's graph IR: runs the flatbuffers
// verifier, then checks everything the runtime relies on (indices in range,
// tensor shapes against buffer sizes, known types, execution order), so that
// a bad model fails here with a one-line reason instead of crashing later.
#pragma once

#include "graph/graph.h"
#include "model/model_file.h"

namespace osprey {

// Constant tensors point into `file`, which must outlive the graph.
// Throws osprey::Error ("op #17 CONV_2D: ...", "tensor 42 'name': ...").
Graph load_graph(const ModelFile& file);

}  // namespace osprey
