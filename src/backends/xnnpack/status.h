// XNNPACK's status codes as osprey::Error, and its one-time initialisation.
#pragma once

#include <xnnpack.h>

#include <string_view>

namespace osprey::xnnpack {

// Throws osprey::Error("XNNPACK <what> failed: <reason>") unless `status` is success.
void check_xnn(xnn_status status, std::string_view what);

// Initialises XNNPACK once per process; throws when the CPU is unsupported.
void initialize_xnnpack();

}  // namespace osprey::xnnpack
