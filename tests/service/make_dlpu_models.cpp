// Writes the emulated-DLPU test models (dlpu_models.h) to DIR/<kind>.tflite:
// float, per-tensor, per-channel, float-io, hybrid.
#include <cstdio>
#include <string>

#include "dlpu_models.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_dlpu_models DIR\n");
    return 2;
  }
  using namespace osprey::service::testing;
  for (DlpuModel kind : all_dlpu_models()) {
    const std::vector<uint8_t> bytes = dlpu_model_bytes(kind);
    const std::string path = std::string(argv[1]) + "/" + dlpu_model_name(kind) + ".tflite";
    FILE* f = std::fopen(path.c_str(), "wb");
    const bool ok = f && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    if (f) std::fclose(f);
    if (!ok) {
      std::fprintf(stderr, "make_dlpu_models: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}
