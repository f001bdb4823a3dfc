#include "quant/graph_runner.h"

#include "core/error.h"

namespace osprey::quant {

namespace {

// copy_constants false: the copy's constants point into src's storage.
Graph copy_with(const Graph& src, bool drop_folded, bool copy_constants) {
  Graph g;
  g.tensors = src.tensors;
  g.inputs = src.inputs;
  g.outputs = src.outputs;
  for (Tensor& t : g.tensors) {
    if (t.is_constant && !copy_constants) continue;
    if (!t.is_constant) {
      t.data = nullptr;
      continue;
    }
    const uint8_t* from = t.data;
    const size_t bytes = t.sparsity ? t.sparsity->value_bytes : t.num_bytes();
    t.data = from ? g.copy_bytes(from, bytes) : g.allocate_bytes(bytes);
  }
  for (const Op& op : src.ops) {
    if (drop_folded) {
      bool all_constant = true;
      for (int t : op.outputs) all_constant = all_constant && src.tensors[static_cast<size_t>(t)].is_constant;
      if (all_constant) continue;
    }
    g.ops.push_back(op);
  }
  return g;
}

}  // namespace

Graph live_graph(const Graph& folded) {
  return copy_with(folded, true, true);
}
Graph live_view(const Graph& folded) {
  return copy_with(folded, true, false);
}
Graph copy_graph(const Graph& graph) {
  return copy_with(graph, false, true);
}
Graph graph_view(const Graph& graph) {
  return copy_with(graph, false, false);
}

std::vector<int> producers(const Graph& graph) {
  std::vector<int> p(graph.tensors.size(), -1);
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    for (int t : graph.ops[i].outputs) p[static_cast<size_t>(t)] = static_cast<int>(i);
  }
  return p;
}

std::vector<std::vector<int>> consumers(const Graph& graph) {
  std::vector<std::vector<int>> c(graph.tensors.size());
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    for (int t : graph.ops[i].inputs) {
      if (t >= 0) c[static_cast<size_t>(t)].push_back(static_cast<int>(i));
    }
  }
  return c;
}

GraphRunner::GraphRunner(Graph graph, const OpResolver* resolver) : graph_(std::move(graph)) {
  const OpResolver& r = resolver ? *resolver : reference_op_resolver();
  for (int t : graph_.inputs) {
    Tensor& x = graph_.tensors[static_cast<size_t>(t)];
    x.data = graph_.allocate_bytes(std::max<size_t>(x.num_bytes(), 1));
  }
  for (const Op& op : graph_.ops) {
    std::unique_ptr<Kernel> kernel = r.create(op);
    OSPREY_CHECK(kernel != nullptr, "op #{} {}: no kernel", op.index, op.name());
    KernelContext ctx(graph_, op);
    try {
      kernel->prepare(ctx);
    } catch (const Error& e) {
      fail("op #{} {}: {}", op.index, op.name(), e.what());
    }
    for (int t : op.outputs) {
      Tensor& x = graph_.tensors[static_cast<size_t>(t)];
      if (!x.is_constant) x.data = graph_.allocate_bytes(std::max<size_t>(x.num_bytes(), 1));
    }
    kernels_.push_back(std::move(kernel));
  }
}

void GraphRunner::run() {
  for (size_t i = 0; i < graph_.ops.size(); ++i) {
    KernelContext ctx(graph_, graph_.ops[i]);
    kernels_[i]->eval(ctx);
  }
}

}  // namespace osprey::quant
