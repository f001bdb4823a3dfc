// Writes the tiny test model (tests/support/model_builder.h) to argv[1].
#include <cstdio>

#include "support/model_builder.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_tiny_model OUT.tflite\n");
    return 2;
  }
  std::vector<uint8_t> bytes = osprey::testing::build_model(osprey::testing::tiny_conv_model());
  FILE* f = std::fopen(argv[1], "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) return 1;
  std::fclose(f);
  return 0;
}
