#include "service/daemon/buffer.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace osprey::service {

namespace {

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

std::shared_ptr<Buffer> Buffer::allocate(size_t size, const std::string& name, std::string& error) {
  if (size == 0) size = 1;
  UniqueFd fd(::memfd_create(("osprey:" + name).substr(0, 200).c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) {
    error = errno_text("memfd_create");
    return nullptr;
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    error = errno_text("ftruncate");
    return nullptr;
  }
  // The client maps this memory too; seals stop it from shrinking the file
  // under the daemon's mapping.
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    error = errno_text("sealing the memfd");
    return nullptr;
  }
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) {
    error = errno_text("mmap");
    return nullptr;
  }
  std::shared_ptr<Buffer> b(new Buffer());
  b->fd_ = std::move(fd);
  b->size_ = size;
  b->props_ = wire::kPropReadWrite | wire::kPropMap;
  b->data_ = static_cast<uint8_t*>(p);
  b->mapped_size_ = size;
  b->writable_ = true;
  b->sealed_ = true;
  return b;
}

std::shared_ptr<Buffer> Buffer::adopt(UniqueFd fd, uint32_t props, std::string& error) {
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    error = errno_text("fstat");
    return nullptr;
  }
  uint64_t size = 0;
  if (S_ISREG(st.st_mode)) {
    size = static_cast<uint64_t>(st.st_size);
  } else if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISDIR(st.st_mode) || S_ISCHR(st.st_mode) ||
             S_ISBLK(st.st_mode)) {
    error = "the fd is not a regular file, memfd or dma-buf";
    return nullptr;
  } else {
    // dma-bufs report their size through lseek.
    off_t end = ::lseek(fd.get(), 0, SEEK_END);
    if (end <= 0) {
      error = "cannot determine the size of the fd (not a regular file, memfd or dma-buf)";
      return nullptr;
    }
    size = static_cast<uint64_t>(end);
  }
  std::shared_ptr<Buffer> b(new Buffer());
  b->size_ = size;
  b->props_ = props;
  int seals = ::fcntl(fd.get(), F_GET_SEALS);
  b->sealed_ = seals >= 0 && (seals & F_SEAL_SHRINK);
  const int flags = ::fcntl(fd.get(), F_GETFL);
  const int acc = flags >= 0 ? (flags & O_ACCMODE) : O_RDONLY;
  bool want_map = (props & (wire::kPropMap | wire::kPropDmabuf)) != 0 || (props & wire::kPropReadWrite) == 0;
  if (want_map && size > 0 && size <= SIZE_MAX) {
    void* p = MAP_FAILED;
    if (acc == O_RDWR) {
      p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
      if (p != MAP_FAILED) b->writable_ = true;
    }
    if (p == MAP_FAILED && acc != O_WRONLY) {
      p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_SHARED, fd.get(), 0);
    }
    if (p != MAP_FAILED) {
      b->data_ = static_cast<uint8_t*>(p);
      b->mapped_size_ = static_cast<size_t>(size);
    } else if ((props & wire::kPropReadWrite) == 0) {
      error = errno_text("mmap of the tensor fd");
      return nullptr;
    }
  }
  if (!b->data_) {
    if ((props & wire::kPropReadWrite) == 0) {
      error = "the fd has neither LAROD_FD_PROP_MAP nor LAROD_FD_PROP_READWRITE";
      return nullptr;
    }
    b->writable_ = acc == O_RDWR || acc == O_WRONLY;
  }
  b->fd_ = std::move(fd);
  return b;
}

namespace {
std::atomic<int64_t> g_live_buffers{0};
}  // namespace

Buffer::Buffer() {
  g_live_buffers++;
}

int64_t Buffer::live_count() {
  return g_live_buffers.load();
}

Buffer::~Buffer() {
  g_live_buffers--;
  if (data_) ::munmap(data_, mapped_size_);
}

// ---- SIGBUS protection --------------------------------------------------

namespace {

struct GuardState {
  uintptr_t begin[FaultGuard::kMaxRanges];
  uintptr_t end[FaultGuard::kMaxRanges];
  volatile int count;
  volatile uint64_t faulted;
  volatile int active;
};

__attribute__((tls_model("initial-exec"))) thread_local GuardState t_guard;

void on_sigbus(int sig, siginfo_t* info, void*) {
  GuardState& g = t_guard;
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  if (g.active) {
    for (int i = 0; i < g.count; ++i) {
      if (addr >= g.begin[i] && addr < g.end[i]) {
        const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
        const uintptr_t b = g.begin[i] & ~(page - 1);
        const uintptr_t e = (g.end[i] + page - 1) & ~(page - 1);
        // Replace the vanished file pages with zero pages; the access resumes.
        void* p = ::mmap(reinterpret_cast<void*>(b), e - b, PROT_READ | PROT_WRITE,
                         MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
          g.faulted = g.faulted | (uint64_t{1} << i);
          return;
        }
      }
    }
  }
  // Not ours: die the way SIGBUS normally kills.
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

void install_fault_handler() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGBUS, &sa, nullptr);
}

FaultGuard::FaultGuard() {
  t_guard.count = 0;
  t_guard.faulted = 0;
  t_guard.active = 1;
}

FaultGuard::~FaultGuard() {
  t_guard.active = 0;
  t_guard.count = 0;
}

int FaultGuard::add(const void* begin, size_t length) {
  if (!begin || length == 0) return -1;
  int i = t_guard.count;
  if (i >= kMaxRanges) return -1;
  t_guard.begin[i] = reinterpret_cast<uintptr_t>(begin);
  t_guard.end[i] = reinterpret_cast<uintptr_t>(begin) + length;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  t_guard.count = i + 1;
  return i;
}

uint64_t FaultGuard::faulted() const {
  return t_guard.faulted;
}

}  // namespace osprey::service
