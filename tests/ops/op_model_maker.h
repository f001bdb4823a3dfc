// What the model makers of the LiteRT op tests (tests/ops/make_*.cpp) share:
// writing the model, and an error as one line on stderr and exit status 1.
#pragma once

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "core/error.h"

namespace osprey::op_tests {

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  const bool ok = f && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (f) std::fclose(f);
  OSPREY_CHECK(ok, "cannot write {}", path);
}

// Runs `make` and returns its status, or 1 when it throws (the message on stderr).
template <typename F>
int run_maker(F&& make) {
  try {
    return make();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

}  // namespace osprey::op_tests
