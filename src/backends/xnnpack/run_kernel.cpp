#include "backends/xnnpack/run_kernel.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "backends/xnnpack/status.h"
#include "core/error.h"

namespace osprey::xnnpack {

namespace {

struct RuntimeDeleter {
  void operator()(xnn_runtime* r) const { xnn_delete_runtime(r); }
};

class XnnpackRunKernel final : public Kernel {
 public:
  XnnpackRunKernel(std::unique_ptr<xnn_runtime, RuntimeDeleter> runtime, std::shared_ptr<pthreadpool> pool,
                   std::vector<std::vector<float>> owned, size_t num_inputs, size_t num_outputs)
      : runtime_(std::move(runtime)),
        pool_(std::move(pool)),
        owned_(std::move(owned)),
        num_inputs_(num_inputs),
        externals_(num_inputs + num_outputs),
        sources_(num_inputs + num_outputs, nullptr),
        staging_(num_inputs) {
    for (size_t i = 0; i < externals_.size(); ++i) externals_[i] = {static_cast<uint32_t>(i), nullptr};
  }

  void prepare(KernelContext& ctx) override {
    OSPREY_CHECK(static_cast<size_t>(ctx.num_inputs()) == num_inputs_ &&
                     static_cast<size_t>(ctx.num_inputs() + ctx.num_outputs()) == externals_.size(),
                 "XNNPACK run has {} boundary tensors, the op {}", externals_.size(),
                 ctx.num_inputs() + ctx.num_outputs());
  }

  // At load: what setting the runtime up allocates (XNNPACK's indirection
  // buffers, its workspace) is allocated with the rest of the model.
  void bind(KernelContext& ctx) override { set_up(ctx); }

  void eval(KernelContext& ctx) override {
    set_up(ctx);
    for (size_t i = 0; i < num_inputs_; ++i) {
      if (!staging_[i].empty())
        std::memcpy(staging_[i].data(), sources_[i], staging_[i].size() - XNN_EXTRA_BYTES);
    }
    check_xnn(xnn_invoke_runtime(runtime_.get()), "inference");
  }

 private:
  // Arena pointers are fixed once memory is planned: the runtime is set up
  // with them once, and again only if one moved. Setup also picks the
  // operators' tiles for the threads the pool will use (1 while it runs on
  // the caller alone), so a change there sets up again too.
  void set_up(KernelContext& ctx) {
    const size_t threads = pthreadpool_get_threads_count(pool_.get());
    bool changed = !bound_ || threads != threads_at_setup_;
    threads_at_setup_ = threads;
    for (size_t i = 0; i < externals_.size(); ++i) {
      Tensor& t =
          i < num_inputs_ ? ctx.input(static_cast<int>(i)) : ctx.output(static_cast<int>(i - num_inputs_));
      if (sources_[i] == t.data) continue;
      sources_[i] = t.data;
      externals_[i].data = t.data;
      changed = true;
      if (i < num_inputs_) {
        // XNNPACK may read XNN_EXTRA_BYTES past an input. Where that would
        // leave readable memory (an input ending the arena on a page boundary),
        // the input is staged in a padded copy instead.
        staging_[i].clear();
        if (!readable_past(t.data, t.num_bytes())) {
          staging_[i].resize(t.num_bytes() + XNN_EXTRA_BYTES);
          externals_[i].data = staging_[i].data();
        }
      }
    }
    if (changed) {
      check_xnn(xnn_setup_runtime(runtime_.get(), externals_.size(), externals_.data()), "runtime setup");
      bound_ = true;
    }
  }

  // Whether the XNN_EXTRA_BYTES after [data, data + size) are readable.
  static bool readable_past(const uint8_t* data, size_t size) {
    static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto last_used = reinterpret_cast<uintptr_t>(data) + size - 1;
    const uintptr_t last_read = last_used + XNN_EXTRA_BYTES;
    if (size == 0 || last_read / page == last_used / page) return true;
    // Mapped is not enough (a thread stack's guard page is mapped and
    // unreadable): read one byte of the page through the kernel, which
    // fails instead of faulting. Any failure means "stage".
    unsigned char byte = 0;
    iovec local{&byte, 1};
    iovec remote{reinterpret_cast<void*>(last_read / page * page), 1};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 1;
  }

  std::unique_ptr<xnn_runtime, RuntimeDeleter> runtime_;
  std::shared_ptr<pthreadpool> pool_;      // kept alive for the runtime
  std::vector<std::vector<float>> owned_;  // static data made for the runtime
  size_t num_inputs_ = 0;
  std::vector<xnn_external_value> externals_;  // inputs then outputs, ids 0..n-1
  std::vector<void*> sources_;                 // the tensors' data when bound
  std::vector<std::vector<uint8_t>> staging_;  // padded copies of inputs, where needed
  bool bound_ = false;
  size_t threads_at_setup_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> make_run_kernel(xnn_subgraph_t subgraph, std::shared_ptr<pthreadpool> pool,
                                        std::vector<std::vector<float>> owned, size_t num_inputs,
                                        size_t num_outputs) {
  xnn_runtime_t rt = nullptr;
  // No XNN_FLAG_HINT_SPARSE_INFERENCE: osprey-avx512 runs sparse 1x1 convolutions itself.
  check_xnn(xnn_create_runtime_v2(subgraph, pool.get(), 0, &rt), "runtime creation");
  std::unique_ptr<xnn_runtime, RuntimeDeleter> runtime(rt);
  return std::make_unique<XnnpackRunKernel>(std::move(runtime), std::move(pool), std::move(owned), num_inputs,
                                            num_outputs);
}

}  // namespace osprey::xnnpack
