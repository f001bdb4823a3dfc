// ADD of two float32 tensors of one shape (a residual connection), with its
// clamp, over AVX-512, split into chunks of the output in memory order.
// XNNPACK's ADD runs such a tensor as one item, on one thread: behind
// operations split over the threads, that thread read half of both inputs
// from the other core's cache and left all of the output in its own, which
// the next operation's other thread then read back. Split like the
// operations around it, each thread adds what it wrote itself.
#pragma once

#include <memory>

#include "kernels/kernel.h"

struct pthreadpool;

namespace osprey {

// Whether this CPU has what the kernel needs.
bool add_supported();

// A kernel for (a, b) -> (output), all of one shape: min(max(a + b, min), max).
std::unique_ptr<Kernel> make_add(float min, float max, std::shared_ptr<pthreadpool> pool);

}  // namespace osprey
