// VideoReader::open and VideoWriter::open through libosprey_media_av.so,
// loaded on the first video opened (av_factories.h says why). The module is
// $OSPREY_MEDIA_MODULE if set, else beside the executable (the build tree),
// else in ../lib/osprey/ from it (an installed tree).
#include <dlfcn.h>

#include <cstdlib>

#include <filesystem>
#include <mutex>
#include <system_error>
#include <vector>

#include "media/av_factories.h"

namespace osprey::media {
namespace {

constexpr const char* kModule = "libosprey_media_av.so";

struct Module {
  decltype(&osprey_media_av_open_reader) open_reader = nullptr;
  decltype(&osprey_media_av_open_writer) open_writer = nullptr;
  std::string error;  // why it could not be loaded
};

std::vector<std::string> candidates() {
  if (const char* env = std::getenv("OSPREY_MEDIA_MODULE"); env && *env) return {env};
  std::vector<std::string> paths;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    paths.push_back((exe.parent_path() / kModule).string());
    paths.push_back((exe.parent_path().parent_path() / "lib" / "osprey" / kModule).string());
  }
  return paths;
}

const Module& module() {
  static Module m;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string tried;
    for (const std::string& path : candidates()) {
      // Never closed: the objects it makes run its code until the process ends.
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        tried += (tried.empty() ? "" : "; ") + std::string(dlerror());
        continue;
      }
      m.open_reader = reinterpret_cast<decltype(m.open_reader)>(dlsym(handle, "osprey_media_av_open_reader"));
      m.open_writer = reinterpret_cast<decltype(m.open_writer)>(dlsym(handle, "osprey_media_av_open_writer"));
      if (m.open_reader && m.open_writer) return;
      tried += (tried.empty() ? "" : "; ") + path + " lacks osprey's entry points";
    }
    m.error = "video support (" + std::string(kModule) +
              ") cannot be loaded: " + (tried.empty() ? "no place to look for it" : tried);
  });
  return m;
}

}  // namespace

std::unique_ptr<VideoReader> VideoReader::open(const std::string& path, ReadError& code, std::string& error) {
  const Module& m = module();
  if (!m.open_reader) {
    code = ReadError::kBadInput;
    error = m.error;
    return nullptr;
  }
  return std::unique_ptr<VideoReader>(m.open_reader(path, code, error));
}

std::unique_ptr<VideoWriter> VideoWriter::open(const std::string& path, int width, int height, double fps,
                                               std::string& error) {
  const Module& m = module();
  if (!m.open_writer) {
    error = m.error;
    return nullptr;
  }
  return std::unique_ptr<VideoWriter>(m.open_writer(path, width, height, fps, error));
}

}  // namespace osprey::media
