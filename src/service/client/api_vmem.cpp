// C API: larodConvertVmemFdToDmabuf. On a camera, VDO may hand out "vmem"
// buffers that a DLPU cannot import, and Larod turns one into a dma-buf. A
// PC has no vmem: the buffers apps get (from ospreyd, osprey's VDO source or
// their own memfds and files) are already memory every device maps, so the
// conversion hands back a new fd for that same memory, zero copy.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "service/client/handles.h"

using namespace osprey::service::client;

namespace {

int fd_error(larodError** error, const std::string& msg) {
  set_error(error, LAROD_ERROR_FD, msg);
  return LAROD_INVALID_FD;
}

// Bytes of memory behind fd: a file's size, else (dma-bufs) its end offset.
bool memory_size(int fd, const struct stat& st, off_t& size) {
  if (S_ISREG(st.st_mode)) {
    size = st.st_size;
    return true;
  }
  // dma-bufs are anonymous inodes whose size lseek reports; pipes, sockets
  // and terminals fail it.
  const off_t end = ::lseek(fd, 0, SEEK_END);
  if (end < 0) return false;
  ::lseek(fd, 0, SEEK_SET);
  size = end;
  return true;
}

}  // namespace

extern "C" {

int larodConvertVmemFdToDmabuf(const int fd, const int64_t offset, larodError** error) {
  return guarded(error, int{LAROD_INVALID_FD}, [&]() -> int {
    if (offset < 0) {
      invalid(error, "negative offset " + std::to_string(offset));
      return LAROD_INVALID_FD;
    }
    struct stat st;
    if (fd < 0 || ::fstat(fd, &st) != 0) return fd_error(error, "fd " + std::to_string(fd) + " is not open");
    off_t size = 0;
    if (!memory_size(fd, st, size)) {
      return fd_error(error, "fd " + std::to_string(fd) +
                                 " is not memory (a memfd, file or dma-buf) and cannot "
                                 "back a tensor");
    }
    if (offset >= size) {
      return fd_error(error, "offset " + std::to_string(offset) + " is beyond the " + std::to_string(size) +
                                 " bytes of fd " + std::to_string(fd));
    }
    if (offset != 0) {
      // A new fd cannot start inside another file's memory without a copy,
      // and a copy would go stale when the producer writes the next frame.
      return fd_error(error, "osprey converts buffers at offset 0 only (got offset " +
                                 std::to_string(offset) +
                                 "): use the fd as it is and set the offset with larodSetTensorFdOffset()");
    }
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return fd_error(error, std::string("cannot duplicate the fd: ") + std::strerror(errno));
    return copy;
  });
}

}  // extern "C"
