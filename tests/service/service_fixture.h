// Test support for the service: a private ospreyd on a temporary socket, a raw
// protocol client for malformed traffic, and the tiny model with its
// in-process reference.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "larod.h"
#include "runtime/interpreter.h"
#include "service/protocol.h"
#include "support/model_builder.h"

namespace osprey::service::testing {

// Polls `done` every 10 ms for at most `seconds` (a bound, not a timing claim).
inline bool eventually(const std::function<bool()>& done, double seconds = 20) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/osprey-svc-test-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    if (p) path_ = p;
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::string cmd = "rm -rf '" + path_ + "'";
      [[maybe_unused]] int rc = std::system(cmd.c_str());
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One ospreyd child process.
class Daemon {
 public:
  ~Daemon() { stop(); }
  // RLIMIT_NOFILE (soft and hard) of the daemon, which then inherits no
  // descriptor of the test but stderr; 0: the test's limit and descriptors.
  int fd_limit = 0;

  // Starts ospreyd on `socket`; waits until it accepts connections.
  bool start(const std::string& socket, const std::string& log,
             std::vector<std::string> extra = {"--test-hooks"}) {
    socket_ = socket;
    log_ = log;
    status_ = -1;
    const size_t offset = read_file(log).size();  // a restarted daemon appends to the same log
    const std::string ready = "event=started socket=" + socket + " ";
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 2);
        ::close(fd);
      }
      if (fd_limit > 0) {
        ::close_range(3, ~0u, 0);
        const rlimit limit{static_cast<rlim_t>(fd_limit), static_cast<rlim_t>(fd_limit)};
        ::setrlimit(RLIMIT_NOFILE, &limit);
      }
      // The reference backend: tests compare bytes with in-process reference runs.
      std::vector<std::string> args = {OSPREYD_PATH, "--socket", socket, "--verbose", "--backend", "ref"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(OSPREYD_PATH, argv.data());
      ::_exit(127);
    }
    if (pid_ < 0) return false;
    // Ready once it logs "started" (probing with a connection would leave a
    // session behind for a moment and skew session counts).
    eventually([&] { return exited() || read_file(log).find(ready, offset) != std::string::npos; }, 20);
    return !exited() && read_file(log).find(ready, offset) != std::string::npos;
  }

  bool can_connect() const {
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_.c_str());
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return ok;
  }

  bool alive() const { return !exited(); }

  // True once the process is gone (it is reaped here).
  bool exited() const {
    if (pid_ <= 0) return true;
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = status;
      pid_ = -1;
      return true;
    }
    return false;
  }

  // SIGTERM and wait (bounded); returns the exit status or -1.
  int stop() {
    if (pid_ <= 0) return status_;
    ::kill(pid_, SIGTERM);
    int status = -1;
    bool done = eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, 20);
    if (!done) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    status_ = status;
    return status;
  }

  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    status_ = status;
  }

  pid_t pid() const { return pid_; }
  std::string log() const { return read_file(log_); }

  int open_fds() const {
    std::string dir = "/proc/" + std::to_string(pid_) + "/fd";
    std::string cmd = "ls " + dir + " 2>/dev/null | wc -l";
    FILE* p = ::popen(cmd.c_str(), "r");
    int n = -1;
    if (p) {
      if (std::fscanf(p, "%d", &n) != 1) n = -1;
      ::pclose(p);
    }
    return n;
  }

 private:
  mutable pid_t pid_ = -1;
  mutable int status_ = -1;
  std::string socket_;
  std::string log_;
};

// Speaks the wire protocol directly, to send what liblarod never would.
class RawClient {
 public:
  explicit RawClient(const std::string& socket) {
    fd_.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket.c_str());
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{20, 0};  // a bound on every read: a broken daemon fails the test instead of hanging it
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  bool connected() const { return connected_; }
  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

  int send(Msg type, const Writer& w, const std::vector<int>& fds = {}, uint64_t id = 0) {
    return send_message(fd_.get(), static_cast<uint16_t>(type), id ? id : next_id_++, w.bytes(), fds.data(),
                        fds.size());
  }
  int send_raw(const void* data, size_t n) {
    ssize_t r = ::send(fd_.get(), data, n, MSG_NOSIGNAL);
    return r < 0 ? errno : 0;
  }
  // Receives one message; false on EOF/error/timeout.
  bool recv(Message& m) {
    std::string error;
    return recv_message(fd_.get(), m, error) == RecvResult::kOk;
  }
  // True when the daemon closed the connection (EOF) within the bound.
  bool closed_by_peer() {
    for (int i = 0; i < 100; ++i) {
      Message m;
      std::string error;
      RecvResult r = recv_message(fd_.get(), m, error);
      if (r == RecvResult::kEof) return true;
      if (r != RecvResult::kOk) return false;
    }
    return false;
  }
  // Sends HELLO and reads the reply.
  bool hello() {
    Writer w;
    w.str("raw test client");
    if (send(Msg::kHello, w) != 0) return false;
    Message m;
    if (!recv(m)) return false;
    Reader r = m.reader();
    return r.i32() == 0;
  }
  // A request with a status-only reply; returns the status (or 1 on a broken link).
  int32_t call(Msg type, const Writer& w, const std::vector<int>& fds = {}, std::string* message = nullptr,
               Message* reply = nullptr) {
    if (send(type, w, fds) != 0) return 1;
    Message m;
    if (!recv(m)) return 1;
    Reader r = m.reader();
    int32_t status = r.i32();
    std::string text = r.str();
    if (message) *message = text;
    if (reply) *reply = std::move(m);
    return status;
  }
  int32_t device_hook(Msg type, const std::string& device = "cpu-tflite") {
    Writer w;
    w.str(device);
    w.u32(0);
    return call(type, w);
  }
  struct Stats {
    uint64_t sessions = 0, models = 0, executables = 0, buffers = 0, queued = 0;
    uint64_t memory = 0;
  };
  bool stats(Stats& s) {
    Message m;
    if (call(Msg::kStats, Writer(), {}, nullptr, &m) != 0) return false;
    Reader r = m.reader();
    r.i32();
    r.str();
    s.sessions = r.u64();
    s.models = r.u64();
    s.executables = r.u64();
    s.buffers = r.u64();
    s.queued = r.u64();
    s.memory = r.u64();
    return true;
  }

 private:
  UniqueFd fd_;
  bool connected_ = false;
  uint64_t next_id_ = 1;
};

// Owns a larodError for EXPECT messages.
struct Err {
  larodError* e = nullptr;
  ~Err() { larodClearError(&e); }
  larodError** operator&() { return &e; }
  std::string msg() const { return e && e->msg ? e->msg : "(no error)"; }
  int code() const { return e ? static_cast<int>(e->code) : 0; }
  void clear() { larodClearError(&e); }
};

// A memfd of `size` bytes for tensors the application owns, or -1.
inline int make_memfd(size_t size) {
  int fd = ::memfd_create("test-tensor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd >= 0 && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Loads a cpu-proc model described by `ints` and `strs` (larodMap entries).
inline larodModel* load_proc(larodConnection* c,
                             const std::vector<std::pair<std::string, std::vector<int64_t>>>& ints,
                             const std::vector<std::pair<std::string, std::string>>& strs, Err& e,
                             int fd = -1) {
  larodMap* map = larodCreateMap(nullptr);
  for (auto& [k, v] : strs) larodMapSetStr(map, k.c_str(), v.c_str(), nullptr);
  for (auto& [k, v] : ints) {
    if (v.size() == 1) larodMapSetInt(map, k.c_str(), v[0], nullptr);
    if (v.size() == 2) larodMapSetIntArr2(map, k.c_str(), v[0], v[1], nullptr);
    if (v.size() == 4) larodMapSetIntArr4(map, k.c_str(), v[0], v[1], v[2], v[3], nullptr);
  }
  const larodDevice* dev = larodGetDevice(c, "cpu-proc", 0, nullptr);
  larodModel* m = larodLoadModel(c, fd, dev, LAROD_ACCESS_PRIVATE, "pp", map, &e);
  larodDestroyMap(&map);
  return m;
}

// The tiny conv model: input [1,5,5,2] float32 -> output [1,5,5,4] float32.
inline std::vector<uint8_t> tiny_model_bytes() {
  return osprey::testing::build_model(osprey::testing::tiny_conv_model());
}

// The same model in-process: the reference every service result must equal.
class Reference {
 public:
  Reference() : interp_(Interpreter::from_buffer(tiny_model_bytes(), "tiny")) {}
  std::vector<float> run(const std::vector<float>& input) {
    Tensor& in = interp_->input(0);
    std::memcpy(in.data, input.data(), in.num_bytes());
    interp_->invoke();
    const Tensor& out = interp_->output(0);
    std::vector<float> result(static_cast<size_t>(out.num_elements()));
    std::memcpy(result.data(), out.data, out.num_bytes());
    return result;
  }
  Interpreter& interp() { return *interp_; }

 private:
  std::unique_ptr<Interpreter> interp_;
};

inline std::vector<float> random_input(uint64_t seed, size_t n = 50) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(-2.0f, 2.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Starts a daemon on a fresh socket and points OSPREY_SOCKET at it.
class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    socket_ = dir_.path() + "/osprey.sock";
    log_ = dir_.path() + "/ospreyd.log";
    ::setenv("OSPREY_SOCKET", socket_.c_str(), 1);
    ASSERT_TRUE(daemon_.start(socket_, log_)) << "ospreyd did not start:\n" << daemon_.log();
    model_path_ = dir_.path() + "/tiny.tflite";
    write_file(model_path_, tiny_model_bytes());
  }
  void TearDown() override {
    if (daemon_.pid() > 0) {
      EXPECT_TRUE(daemon_.alive()) << "ospreyd died during the test:\n" << daemon_.log();
      EXPECT_EQ(daemon_.stop(), 0) << daemon_.log();
    }
  }

  larodConnection* connect() {
    larodConnection* c = nullptr;
    Err e;
    EXPECT_TRUE(larodConnect(&c, &e)) << e.msg();
    return c;
  }

  larodModel* load_tiny(larodConnection* c, larodAccess access = LAROD_ACCESS_PRIVATE,
                        const char* name = "tiny") {
    Err e;
    const larodDevice* dev = larodGetDevice(c, "cpu-tflite", 0, &e);
    EXPECT_NE(dev, nullptr) << e.msg();
    int fd = ::open(model_path_.c_str(), O_RDONLY | O_CLOEXEC);
    larodModel* m = larodLoadModel(c, fd, dev, access, name, nullptr, &e);
    ::close(fd);
    EXPECT_NE(m, nullptr) << e.msg();
    return m;
  }

  TempDir dir_;
  Daemon daemon_;
  std::string socket_, log_, model_path_;
};

// Maps a tensor's fd for the test to fill or read.
class Mapped {
 public:
  explicit Mapped(larodTensor* t) {
    size_t size = 0;
    larodGetTensorFdSize(t, &size, nullptr);
    size_ = size;
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, larodGetTensorFd(t, nullptr), 0);
    data_ = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  }
  ~Mapped() {
    if (data_) ::munmap(data_, size_);
  }
  Mapped(const Mapped&) = delete;
  Mapped& operator=(const Mapped&) = delete;
  uint8_t* data() const { return data_; }
  float* floats() const { return reinterpret_cast<float*>(data_); }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace osprey::service::testing
