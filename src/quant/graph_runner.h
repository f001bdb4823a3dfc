// Running a graph while keeping every tensor: what calibration and the
// per-layer accuracy report need (the Interpreter's memory plan reuses
// buffers, so intermediate values are gone after invoke()).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "kernels/kernel.h"
#include "kernels/op_resolver.h"

namespace osprey::quant {

// A self-contained copy of `folded` (an Interpreter's graph after load-time
// folding): constants are copied into the new graph's own storage, and ops
// whose outputs were all folded into constants are dropped. Tensor indices
// are unchanged.
Graph live_graph(const Graph& folded);

// Deep copy (constants copied); ops and indices unchanged.
Graph copy_graph(const Graph& graph);

// copy_graph and live_graph without copying the constants: they still point
// into the source's storage, so a view must not outlive it (a graph to edit
// a little and write out, or to hand to a StackGraphRunner, which writes it).
Graph graph_view(const Graph& graph);
Graph live_view(const Graph& folded);

// Tensors each op reads (by index), and the op that writes each tensor (-1 for none).
std::vector<int> producers(const Graph& graph);
std::vector<std::vector<int>> consumers(const Graph& graph);

class GraphRunner {
 public:
  // Prepares every op with `resolver` (default: the reference kernels) and
  // gives every non-constant tensor its own storage.
  explicit GraphRunner(Graph graph, const OpResolver* resolver = nullptr);
  GraphRunner(const GraphRunner&) = delete;
  GraphRunner& operator=(const GraphRunner&) = delete;

  Graph& graph() { return graph_; }
  const Graph& graph() const { return graph_; }
  Tensor& input(int i) { return graph_.tensors[static_cast<size_t>(graph_.inputs[static_cast<size_t>(i)])]; }
  Tensor& output(int i) {
    return graph_.tensors[static_cast<size_t>(graph_.outputs[static_cast<size_t>(i)])];
  }
  int num_inputs() const { return static_cast<int>(graph_.inputs.size()); }
  int num_outputs() const { return static_cast<int>(graph_.outputs.size()); }
  void run();

 private:
  Graph graph_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
};

}  // namespace osprey::quant
