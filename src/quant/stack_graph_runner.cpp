#include "quant/stack_graph_runner.h"

#include <set>

#include "backends/backend.h"
#include "core/error.h"
#include "model/writer.h"
#include "quant/graph_runner.h"

namespace osprey::quant {

namespace {

// write_tflite drops the tensors no op or model I/O uses and keeps the order
// of the rest (model/writer.h): tensor t lands at its rank among used ones.
std::vector<int> written_indices(const Graph& g) {
  std::vector<char> used(g.tensors.size(), 0);
  auto mark = [&](int t) {
    if (t >= 0) used[static_cast<size_t>(t)] = 1;
  };
  for (const Op& op : g.ops) {
    for (int t : op.inputs) mark(t);
    for (int t : op.outputs) mark(t);
  }
  for (int t : g.inputs) mark(t);
  for (int t : g.outputs) mark(t);
  std::vector<int> index(g.tensors.size(), -1);
  int next = 0;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (used[t]) index[t] = next++;
  }
  return index;
}

}  // namespace

StackGraphRunner::StackGraphRunner(const Graph& graph, const std::string& backend, int threads, Keep keep)
    : model_outputs_(static_cast<int>(graph.outputs.size())) {
  // Written out at once: a view spares copying the weights once more.
  Graph exposed = graph_view(graph);
  // Every kept activation (the inputs too: the arena reuses an input's
  // buffer once its last reader ran) becomes a model output.
  std::set<int> outputs(exposed.outputs.begin(), exposed.outputs.end());
  auto expose = [&](int t) {
    if (t < 0) return;
    const Tensor& x = exposed.tensors[static_cast<size_t>(t)];
    if (!x.is_constant && (keep == Keep::kAll || x.type == DType::kFloat32) && outputs.insert(t).second) {
      exposed.outputs.push_back(t);
    }
  };
  for (int t : exposed.inputs) expose(t);
  for (const Op& op : exposed.ops) {
    for (int t : op.outputs) expose(t);
  }
  index_ = written_indices(exposed);
  const BackendStack stack = make_backends(backend, threads);
  interpreter_ = Interpreter::from_buffer(write_tflite(exposed), "calibration graph", stack.options());
  // The mapping above must hold; a writer that renumbered differently would
  // silently mix up statistics, so check every tensor's identity.
  const Graph& loaded = interpreter_->graph();
  for (size_t t = 0; t < index_.size(); ++t) {
    const int i = index_[t];
    if (i < 0) continue;
    OSPREY_CHECK(i < static_cast<int>(loaded.tensors.size()) &&
                     loaded.tensors[static_cast<size_t>(i)].name == graph.tensors[t].name &&
                     loaded.tensors[static_cast<size_t>(i)].shape == graph.tensors[t].shape,
                 "calibration graph: tensor {} '{}' was renumbered on writing", t, graph.tensors[t].name);
  }
}

StackGraphRunner::~StackGraphRunner() = default;

const Tensor* StackGraphRunner::tensor(int t) const {
  const int i = t >= 0 && t < static_cast<int>(index_.size()) ? index_[static_cast<size_t>(t)] : -1;
  return i < 0 ? nullptr : &interpreter_->graph().tensors[static_cast<size_t>(i)];
}

}  // namespace osprey::quant
