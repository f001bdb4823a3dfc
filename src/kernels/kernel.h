// The operator interface, in three parts like TFLite Micro's:
//   parse options  - done by the model loader into graph/options.h structs;
//   prepare        - check input types and shapes, set output shapes, and
//                    precompute whatever eval needs (kept as kernel members);
//   eval           - compute the outputs, no allocation, no failure on valid data.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "core/error.h"
#include "graph/graph.h"

namespace osprey {

// What a kernel sees of the graph while preparing or running one op.
class KernelContext {
 public:
  // `budget`: InterpreterOptions::max_tensor_bytes of the load (0: none).
  KernelContext(Graph& graph, const Op& op, size_t budget = 0) : graph_(graph), op_(op), budget_(budget) {}

  const Op& op() const { return op_; }
  int num_inputs() const { return static_cast<int>(op_.inputs.size()); }
  int num_outputs() const { return static_cast<int>(op_.outputs.size()); }
  // False when input i is absent or the optional marker -1.
  bool has_input(int i) const { return i < num_inputs() && op_.inputs[static_cast<size_t>(i)] >= 0; }
  Tensor& input(int i) const;
  Tensor& output(int i) const;
  int input_index(int i) const { return op_.inputs[static_cast<size_t>(i)]; }
  int output_index(int i) const { return op_.outputs[static_cast<size_t>(i)]; }

  // The op's parsed options; a mismatch means the loader is wrong, not the model.
  template <typename T>
  const T& options() const {
    if (const T* p = std::get_if<T>(&op_.options)) return *p;
    fail("options of the wrong kind");
  }
  // Called by a kernel before it builds tables in prepare whose size the
  // model sets (a resize's per-column taps for an output millions of pixels
  // wide), once its output shapes are set: the load's budget is checked on
  // the tensors only after every op is prepared, too late to stop the
  // tables. Throws TensorBudgetExceeded when the tables and the op's
  // outputs alone pass the budget.
  void reserve_tables(size_t bytes, const char* what) const;

 private:
  Graph& graph_;
  const Op& op_;
  size_t budget_ = 0;
};

// What a backend's kernel checks in prepare: one input and one output, of
// the shapes it was built for. `what` names it in the errors ("int8
// convolution").
void check_built_shapes(const KernelContext& ctx, const char* what, const Shape& in, const Shape& out);

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Throws osprey::Error with the reason (without the op's name: the caller adds it).
  virtual void prepare(KernelContext& ctx) = 0;
  // Called once the memory plan has given every tensor its place, before the
  // first eval: a kernel that hands tensor addresses to a library (XNNPACK's
  // runtime setup) does it here, so that what the library allocates then is
  // allocated at load. Eval sets up again should an address move.
  virtual void bind(KernelContext&) {}
  virtual void eval(KernelContext& ctx) = 0;
};

// What the op registry (src/ops) stores: kernel files define one constant per op,
// e.g. `extern const KernelFactory add_kernel = make_kernel<AddKernel>;`.
using KernelFactory = std::unique_ptr<Kernel> (*)();
template <typename K>
std::unique_ptr<Kernel> make_kernel() {
  return std::make_unique<K>();
}

}  // namespace osprey
