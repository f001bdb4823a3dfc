#include "backends/xnnpack/status.h"

#include "core/error.h"

namespace osprey::xnnpack {

namespace {

const char* status_name(xnn_status status) {
  switch (status) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "not initialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
  }
  return "unknown error";
}

}  // namespace

void check_xnn(xnn_status status, std::string_view what) {
  if (status != xnn_status_success) fail("XNNPACK {} failed: {}", what, status_name(status));
}

void initialize_xnnpack() {
  static const xnn_status status = xnn_initialize(nullptr);
  check_xnn(status, "initialisation");
}

}  // namespace osprey::xnnpack
