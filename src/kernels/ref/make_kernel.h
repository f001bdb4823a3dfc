// The factory the reference kernel files register for their ops: each op of a
// graph gets its own kernel object, so prepare may keep state for eval.
#pragma once

#include <memory>

#include "kernels/kernel.h"

namespace osprey::ref {

template <typename K>
std::unique_ptr<Kernel> make() {
  return std::make_unique<K>();
}

}  // namespace osprey::ref
