#include "runtime/step_site.h"

namespace osprey {

StepSite& current_step_site() {
  thread_local StepSite site;
  return site;
}

}  // namespace osprey
