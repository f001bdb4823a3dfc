#include "runtime/interpreter.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <set>

#include "core/limits.h"
#include "core/split.h"
#include "graph/memory_plan.h"
#include "model/loader.h"
#include "runtime/delegate.h"
#include "runtime/op_cost.h"
#include "runtime/step_site.h"
#include "runtime/weight_release.h"

namespace osprey {

namespace {

// Runs `load`, naming `label` in the error it raises; a budget refusal keeps
// its type, so that callers can say whose budget it was.
template <class Load>
std::unique_ptr<Interpreter> labelled(const std::string& label, Load&& load) {
  try {
    return load();
  } catch (const TensorBudgetExceeded& e) {
    throw TensorBudgetExceeded(fmt::format("{}: {}", label, e.what()), e.needed, e.budget);
  } catch (const Error& e) {
    fail("{}: {}", label, e.what());
  }
}

}  // namespace

std::unique_ptr<Interpreter> Interpreter::load(const std::string& path, const InterpreterOptions& options) {
  return labelled(path, [&] {
    std::unique_ptr<Interpreter> interp(new Interpreter());
    interp->file_ = ModelFile::open(path);
    interp->graph_ = load_graph(*interp->file_);
    interp->prepare(options);
    return interp;
  });
}

std::unique_ptr<Interpreter> Interpreter::from_buffer(std::vector<uint8_t> bytes, const std::string& label,
                                                      const InterpreterOptions& options) {
  return labelled(label, [&] {
    std::unique_ptr<Interpreter> interp(new Interpreter());
    interp->file_ = ModelFile::from_bytes(std::move(bytes), label);
    interp->graph_ = load_graph(*interp->file_);
    interp->prepare(options);
    return interp;
  });
}

Interpreter::~Interpreter() {
  if (arena_) munmap(arena_, std::max<size_t>(arena_size_, 64));
}

namespace {

// Names every op without a kernel at once, so one run tells the whole story.
void check_all_supported(const Graph& graph, const OpResolver& resolver) {
  std::vector<std::string> missing;
  std::set<std::string> seen;
  int first = -1;
  for (const Op& op : graph.ops) {
    if (resolver.supports(op)) continue;
    if (first < 0) first = op.index;
    std::string name = op.code == static_cast<int32_t>(OpCode::kCustom) ? op.name() + " (custom)" : op.name();
    if (seen.insert(name).second) missing.push_back(name);
  }
  if (missing.empty()) return;
  std::string list;
  for (const std::string& m : missing) list += (list.empty() ? "" : ", ") + m;
  fail("op #{} {}: not supported by osprey; the model needs {} missing op{}: {}", first,
       graph.ops[static_cast<size_t>(first)].name(), missing.size(), missing.size() == 1 ? "" : "s", list);
}

bool all_inputs_constant(const Graph& graph, const Op& op) {
  bool any = false;
  for (int t : op.inputs) {
    if (t < 0) continue;
    if (!graph.tensors[static_cast<size_t>(t)].is_constant) return false;
    any = true;
  }
  return any;
}

}  // namespace

void Interpreter::prepare(const InterpreterOptions& options) {
  const OpResolver& resolver = options.resolver ? *options.resolver : reference_op_resolver();
  check_all_supported(graph_, resolver);

  for (const Op& op : graph_.ops) {
    std::unique_ptr<Kernel> kernel = resolver.create(op);
    KernelContext ctx(graph_, op, options.max_tensor_bytes);
    try {
      kernel->prepare(ctx);
      for (int t : op.outputs) {
        Tensor& out = graph_.tensors[static_cast<size_t>(t)];
        OSPREY_CHECK(dtype_size(out.type) > 0, "output tensor {} has type {}, which osprey cannot hold", t,
                     dtype_name(out.type));
        // The loader bounds declared shapes; this bounds the ones kernels infer.
        limits::checked_elements(out.shape, fmt::format("output tensor {}", t));
      }
      // Constant subgraphs (fp16 weights behind DEQUANTIZE, DENSIFY of sparse
      // weights) run once here; their outputs become constants.
      if (all_inputs_constant(graph_, op)) {
        for (int t : op.outputs) graph_.allocate_constant(graph_.tensors[static_cast<size_t>(t)]);
        kernel->eval(ctx);
        ++folded_ops_;
        continue;
      }
    } catch (const TensorBudgetExceeded& e) {
      throw TensorBudgetExceeded(fmt::format("op #{} {}: {}", op.index, op.name(), e.what()), e.needed,
                                 e.budget);
    } catch (const Error& e) {
      fail("op #{} {}: {}", op.index, op.name(), e.what());
    } catch (const std::bad_alloc&) {
      fail("op #{} {}: out of memory while preparing", op.index, op.name());
    }
    steps_.push_back({&op, std::move(kernel)});
  }
  if (options.max_tensor_bytes > 0) {
    size_t total = 0;
    for (const Tensor& t : graph_.tensors)
      if (!t.is_constant) total += t.num_bytes();
    if (total > options.max_tensor_bytes) {
      throw TensorBudgetExceeded(fmt::format("the model's tensors need {} bytes, above the budget of {}",
                                             total, options.max_tensor_bytes),
                                 total, options.max_tensor_bytes);
    }
  }
  for (const Step& step : steps_) {
    const Op& op = *step.op;
    plan_info_.push_back(
        {op.index, op.name(), graph_.tensors[static_cast<size_t>(op.outputs[0])].shape, op_macs(graph_, op)});
  }
  if (!options.backends.empty()) {
    std::vector<const Op*> plan;
    for (const Step& step : steps_) plan.push_back(step.op);
    WeightRelease release(graph_, plan, options.release_weights);
    release.release_unread();
    // origin[s]: the original step that step s is, -1 for a delegated run.
    std::vector<int> origin;
    for (size_t s = 0; s < steps_.size(); ++s) origin.push_back(static_cast<int>(s));
    for (Delegate* backend : options.backends) {
      OSPREY_CHECK(backend != nullptr, "backend list holds a null backend");
      apply_backend(*backend, release, origin);
    }
    released_weight_bytes_ = release.released_bytes();
  }
  guard_bytes_ = options.guard_bytes;
  plan_memory(options.threads);
  for (Step& step : steps_) {
    KernelContext ctx(graph_, *step.op);
    step.kernel->bind(ctx);
    // A step whose outputs hold no element has nothing to compute; its
    // kernel's loops over the other dimensions could still take seconds
    // ([9, 6, 17760256, 0] from a fuzzed MAXIMUM).
    step.empty = std::all_of(step.op->outputs.begin(), step.op->outputs.end(), [&](int t) {
      return graph_.tensors[static_cast<size_t>(t)].num_elements() == 0;
    });
  }
}

void Interpreter::apply_backend(Delegate& backend, WeightRelease& release, std::vector<int>& origin) {
  std::vector<const Op*> ops;
  for (const Step& step : steps_) ops.push_back(step.op);
  release.set_view(origin);
  std::vector<DelegatedRun> runs = backend.partition(graph_, ops, release);
  if (runs.empty()) return;
  std::vector<Step> steps;
  std::vector<OpInfo> info;
  std::vector<int> new_origin;
  size_t next_run = 0;
  for (int s = 0; s < static_cast<int>(steps_.size()); ++s) {
    if (next_run < runs.size() && runs[next_run].first_step == s) {
      DelegatedRun& run = runs[next_run++];
      OSPREY_CHECK(run.last_step >= s && run.last_step < static_cast<int>(steps_.size()) && run.kernel &&
                       !run.outputs.empty(),
                   "{} claimed an invalid run of steps", backend.name());
      for (int k = s; k <= run.last_step; ++k) {
        OSPREY_CHECK(origin[static_cast<size_t>(k)] >= 0, "{} claimed a run another backend holds",
                     backend.name());
      }
      release.built(s, run.last_step);
      auto op = std::make_unique<Op>();
      op->index = -1;
      op->code = static_cast<int32_t>(OpCode::kCustom);
      op->custom_code = run.name;
      op->inputs = run.inputs;
      op->outputs = run.outputs;
      KernelContext ctx(graph_, *op);
      run.kernel->prepare(ctx);
      OpInfo merged{-1, run.name, graph_.tensors[static_cast<size_t>(run.outputs.back())].shape, 0};
      for (int k = s; k <= run.last_step; ++k) merged.macs += plan_info_[static_cast<size_t>(k)].macs;
      info.push_back(merged);
      steps.push_back({op.get(), std::move(run.kernel)});
      new_origin.push_back(-1);
      delegated_ops_.push_back(std::move(op));
      s = run.last_step;
      continue;
    }
    steps.push_back(std::move(steps_[static_cast<size_t>(s)]));
    info.push_back(plan_info_[static_cast<size_t>(s)]);
    new_origin.push_back(origin[static_cast<size_t>(s)]);
  }
  OSPREY_CHECK(next_run == runs.size(), "{} claimed overlapping or unordered runs", backend.name());
  steps_ = std::move(steps);
  plan_info_ = std::move(info);
  origin = std::move(new_origin);
}

void Interpreter::plan_memory(int threads) {
  // One request per non-constant tensor the plan touches.
  std::vector<int> tensor_of;
  std::vector<BufferRequest> requests;
  std::vector<int> request_of(graph_.tensors.size(), -1);
  auto touch = [&](int t, int step) {
    Tensor& tensor = graph_.tensors[static_cast<size_t>(t)];
    if (tensor.is_constant) return;
    int& r = request_of[static_cast<size_t>(t)];
    if (r < 0) {
      r = static_cast<int>(requests.size());
      requests.push_back({tensor.num_bytes() + guard_bytes_, step, step, split_rows(tensor.shape)});
      tensor_of.push_back(t);
    }
    BufferRequest& req = requests[static_cast<size_t>(r)];
    req.first_step = std::min(req.first_step, step);
    req.last_step = std::max(req.last_step, step);
  };
  const int end = static_cast<int>(steps_.size());
  for (int t : graph_.inputs) touch(t, -1);
  for (int s = 0; s < end; ++s) {
    for (int t : steps_[static_cast<size_t>(s)].op->inputs) {
      if (t >= 0) touch(t, s);
    }
    for (int t : steps_[static_cast<size_t>(s)].op->outputs) touch(t, s);
  }
  for (int t : graph_.outputs) touch(t, end);

  MemoryPlan plan = osprey::plan_memory(requests, 64, threads);
  arena_size_ = plan.arena_size;
  // Anonymous memory comes zeroed and is only committed when touched, so a
  // model that declares huge tensors costs nothing until it runs.
  void* p = mmap(nullptr, std::max<size_t>(arena_size_, 64), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fail("cannot allocate the {} byte arena", arena_size_);
  // In 2 MB pages where the kernel allows (a hint): a calibration graph's arena
  // holds every activation, and its 4 KB page faults were a fifth of a quantization.
  madvise(p, arena_size_, MADV_HUGEPAGE);
  arena_ = static_cast<uint8_t*>(p);
  for (size_t r = 0; r < requests.size(); ++r) {
    graph_.tensors[static_cast<size_t>(tensor_of[r])].data = arena_ + plan.offsets[r];
  }
}

namespace {
constexpr uint8_t kGuardByte = 0xA5;
}

// A tensor's guard lies in its own arena bytes, but another tensor may have
// used them in an earlier step: filled anew before each step that writes it.
void Interpreter::fill_guards(size_t step) {
  for (int t : steps_[step].op->outputs) {
    Tensor& out = graph_.tensors[static_cast<size_t>(t)];
    if (in_arena(out)) std::memset(out.data_as<uint8_t>() + out.num_bytes(), kGuardByte, guard_bytes_);
  }
}

void Interpreter::check_guards(size_t step) const {
  for (int t : steps_[step].op->outputs) {
    const Tensor& out = graph_.tensors[static_cast<size_t>(t)];
    if (!in_arena(out)) continue;
    const uint8_t* guard = out.data_as<uint8_t>() + out.num_bytes();
    const uint8_t* changed =
        std::find_if(guard, guard + guard_bytes_, [](uint8_t b) { return b != kGuardByte; });
    if (changed == guard + guard_bytes_) continue;
    const OpInfo& info = plan_info_[step];  // a delegated run (index -1) goes by its name alone
    throw KernelOverrun(fmt::format("{}{} wrote past the end of its output '{}' ({} bytes): byte {}",
                                    info.index >= 0 ? fmt::format("op #{} ", info.index) : "", info.name,
                                    out.name, out.num_bytes(),
                                    out.num_bytes() + static_cast<size_t>(changed - guard)));
  }
}

// Outputs outside the arena (a caller's buffer, a delegated run's own
// memory) have no guard bytes after them.
bool Interpreter::in_arena(const Tensor& tensor) const {
  return tensor.data >= arena_ && tensor.data < arena_ + arena_size_;
}

void Interpreter::run_step(size_t i) {
  const StepSiteScope site(this, static_cast<uint32_t>(i));
  KernelContext ctx(graph_, *steps_[i].op);
  if (guard_bytes_) fill_guards(i);
  if (!steps_[i].empty) steps_[i].kernel->eval(ctx);
  if (guard_bytes_) check_guards(i);
}

void Interpreter::invoke() {
  for (size_t i = 0; i < steps_.size(); ++i) run_step(i);
}

void Interpreter::invoke_profiled(std::vector<double>& seconds_per_op) {
  seconds_per_op.assign(steps_.size(), 0.0);
  for (size_t i = 0; i < steps_.size(); ++i) {
    const auto start = std::chrono::steady_clock::now();
    run_step(i);
    seconds_per_op[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
}

int64_t Interpreter::total_macs() const {
  int64_t macs = 0;
  for (const OpInfo& info : plan_info_) macs += info.macs;
  return macs;
}

size_t Interpreter::weight_bytes() const {
  std::set<int> seen;
  size_t total = 0;
  for (const Step& step : steps_) {
    for (int t : step.op->inputs) {
      if (t < 0 || !graph_.tensors[static_cast<size_t>(t)].is_constant || !seen.insert(t).second) continue;
      total += graph_.tensors[static_cast<size_t>(t)].num_bytes();
    }
  }
  return total;
}

}  // namespace osprey
