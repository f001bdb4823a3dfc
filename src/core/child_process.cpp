#include "core/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <exception>

#include "core/error.h"

// A sanitizer's hook, present only in sanitized builds (weak: null otherwise).
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace osprey {

namespace {

// What the child writes: one status byte, then the result or the error line.
constexpr char kResult = 'R';
constexpr char kError = 'E';

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(3);
    p += w;
    n -= static_cast<size_t>(w);
  }
}

[[noreturn]] void child_main(int fd, const std::function<std::string()>& work) {
  // A crash is the child's plain death, which the parent reports: not a
  // sanitizer's or a fuzzer's handler (a fuzzer would save the input as its
  // own crash).
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP}) signal(sig, SIG_DFL);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback([] { _exit(4); });
  const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) dup2(null, STDERR_FILENO);
  std::string message(1, kResult);
  try {
    message += work();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    message.assign(1, kError);
    message += what.substr(0, what.find('\n'));
  } catch (...) {
    message.assign(1, kError);
    message += "an unknown exception";
  }
  write_all(fd, message.data(), message.size());
  _exit(0);  // no atexit handlers or stdio flushes: they are the parent's
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return fmt::format("signal {}, {}", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("exit status {}", WEXITSTATUS(status));
}

}  // namespace

std::string run_in_child(const std::function<std::string()>& work, std::string_view what,
                         std::chrono::seconds limit) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) fail("{}: cannot make a pipe: {}", what, strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) {
    const int e = errno;
    close(fds[0]);
    close(fds[1]);
    fail("{}: cannot start a child process: {}", what, strerror(e));
  }
  if (pid == 0) {
    close(fds[0]);
    child_main(fds[1], work);
  }
  close(fds[1]);

  std::string received;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool timed_out = false;
  char buffer[1 << 16];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t n = read(fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of file: the child has finished or died
    received.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  pid_t waited;
  do {
    waited = waitpid(pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  if (timed_out) fail("{} did not finish within {} s", what, limit.count());
  // ECHILD: the process reaps its children itself (SIGCHLD ignored); the message tells.
  const bool exited_well = waited < 0 ? errno == ECHILD : WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!exited_well || received.empty() || (received[0] != kResult && received[0] != kError))
    fail("{} crashed on this input ({})", what, waited < 0 ? "no exit status" : describe(status));
  if (received[0] == kError) fail("{}", received.substr(1));
  received.erase(0, 1);
  return received;
}

}  // namespace osprey
