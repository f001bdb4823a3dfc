// The runtime side of the XNNPACK backend: one XNNPACK runtime (weights
// packed, thread pool attached) wrapped as the Kernel of a delegated run. Its
// boundary tensors are osprey's arena buffers, bound as external values.
#pragma once

#include <xnnpack.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "kernels/kernel.h"

struct pthreadpool;

namespace osprey::xnnpack {

// Creates the runtime of `subgraph` (XNNPACK packs the static weights now)
// and the kernel that runs it. The subgraph's external values are numbered
// inputs first, then outputs; `owned` is static data the runtime reads.
// Throws osprey::Error.
std::unique_ptr<Kernel> make_run_kernel(xnn_subgraph_t subgraph, std::shared_ptr<pthreadpool> pool,
                                        std::vector<std::vector<float>> owned, size_t num_inputs,
                                        size_t num_outputs);

}  // namespace osprey::xnnpack
