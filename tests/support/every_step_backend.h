// A backend made for tests of the interpreter: it claims every step, one run
// each, and builds each run's kernel with the factory it was given; a run is
// named "NAME(OP)".
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/delegate.h"

namespace osprey::testing {

class EveryStepBackend final : public Delegate {
 public:
  EveryStepBackend(std::string name, std::function<std::unique_ptr<Kernel>()> make_kernel)
      : name_(std::move(name)), make_kernel_(std::move(make_kernel)) {}
  std::string name() const override { return name_; }
  std::vector<DelegatedRun> partition(const Graph&, const std::vector<const Op*>& ops,
                                      PackedSteps&) override {
    std::vector<DelegatedRun> runs;
    for (size_t s = 0; s < ops.size(); ++s) {
      DelegatedRun run;
      run.first_step = run.last_step = static_cast<int>(s);
      run.inputs = {ops[s]->inputs[0]};
      run.outputs = ops[s]->outputs;
      run.kernel = make_kernel_();
      run.name = name_ + "(" + ops[s]->name() + ")";
      runs.push_back(std::move(run));
    }
    return runs;
  }

 private:
  std::string name_;
  std::function<std::unique_ptr<Kernel>()> make_kernel_;
};

}  // namespace osprey::testing
