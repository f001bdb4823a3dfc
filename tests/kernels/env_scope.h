// Sets an environment variable for one scope and puts back what was there
// (the CPU-level caps the kernel tests force: OSPREY_AVX512_INT8,
// OSPREY_SPARSE_CONV).
#pragma once

#include <cstdlib>
#include <string>

namespace osprey::testing {

class EnvScope {
 public:
  EnvScope(const char* name, const char* value) : name_(name) {
    if (const char* v = std::getenv(name)) before_ = v, had_ = true;
    setenv(name, value, 1);
  }
  ~EnvScope() {
    if (had_) {
      setenv(name_.c_str(), before_.c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }
  EnvScope(const EnvScope&) = delete;
  EnvScope& operator=(const EnvScope&) = delete;

 private:
  std::string name_, before_;
  bool had_ = false;
};

}  // namespace osprey::testing
