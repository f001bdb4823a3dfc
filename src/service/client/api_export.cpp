// C API: larodExportModel. On a camera, exporting prepares a model for a
// device (a DLPU compiles it) and writes what the device runs, so later
// loads skip the work. osprey's devices run the .tflite itself: the export
// loads the model on the device exactly as larodLoadModel() would (a model
// the device refuses fails the same way, with the same message), unloads it
// and writes the model file's bytes to the output fd.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "service/client/handles.h"

using namespace osprey::service;
using namespace osprey::service::client;

namespace {

bool fd_error(larodError** error, const std::string& msg) {
  set_error(error, LAROD_ERROR_FD, msg);
  return false;
}

// SIGPIPE blocked in this thread while writing, so a closed pipe is an error
// (EPIPE) instead of killing the application; a SIGPIPE raised meanwhile is
// consumed before the mask is restored.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_);
  }
  ~SigpipeBlocked() {
    if (!was_pending_) {
      sigset_t pipe_set;
      sigemptyset(&pipe_set);
      sigaddset(&pipe_set, SIGPIPE);
      const struct timespec zero = {0, 0};
      while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

// Copies the whole model file (from its start) to out at out's position.
bool copy_model(int model_fd, int out_fd, larodError** error) {
  std::vector<char> chunk(size_t{1} << 16);
  SigpipeBlocked no_sigpipe;
  for (off_t at = 0;;) {
    const ssize_t got = ::pread(model_fd, chunk.data(), chunk.size(), at);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      return fd_error(error, std::string("reading the model file failed: ") + std::strerror(errno));
    if (got == 0) return true;
    at += got;
    for (ssize_t done = 0; done < got;) {
      const ssize_t put = ::write(out_fd, chunk.data() + done, static_cast<size_t>(got - done));
      if (put < 0 && errno == EINTR) continue;
      if (put < 0)
        return fd_error(error, std::string("writing the exported model failed: ") + std::strerror(errno));
      done += put;
    }
  }
}

}  // namespace

extern "C" {

bool larodExportModel(larodConnection* conn, const int modelFd, const int outputFd, const larodDevice* dev,
                      const larodMap* params, larodError** error) {
  return guarded(error, [&] {
    if (!conn) return invalid(error, "conn is NULL");
    if (!dev) return invalid(error, "dev is NULL");
    struct stat st;
    if (modelFd < 0 || ::fstat(modelFd, &st) != 0)
      return fd_error(error, "model fd " + std::to_string(modelFd) + " is not open");
    if (!S_ISREG(st.st_mode)) return fd_error(error, "the model fd is not a regular file");
    const int flags = outputFd < 0 ? -1 : ::fcntl(outputFd, F_GETFL);
    if (flags < 0) return fd_error(error, "output fd " + std::to_string(outputFd) + " is not open");
    if ((flags & O_ACCMODE) == O_RDONLY) return fd_error(error, "the output fd is open read-only");

    LoadModelRequest load;
    load.has_fd = true;
    load.device = {dev->name, dev->instance};
    load.access = wire::kAccessPrivate;
    load.name = "export";
    if (params) load.params = params->map;
    ModelInfo loaded;
    if (!call(conn, load, {modelFd}, &loaded, error)) return false;
    if (!call(conn, DeleteModelRequest{loaded.id}, {}, nullptr, error)) return false;
    return copy_model(modelFd, outputFd, error);
  });
}

}  // extern "C"
