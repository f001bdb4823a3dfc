// run_in_child: the child's result comes back whole, its error line becomes
// the caller's osprey::Error, and its crash or hang is an error naming the
// work, never the caller's crash or hang.
#include "core/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/error.h"

namespace osprey {
namespace {

std::string error_in_child(const std::function<std::string()>& work, std::chrono::seconds limit) {
  try {
    run_in_child(work, "the work", limit);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ChildProcess, ResultComesBackWhole) {
  std::string big(3 << 20, '\0');  // larger than a pipe's buffer
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + 7);
  EXPECT_EQ(run_in_child([&] { return big; }, "the work", std::chrono::seconds(60)), big);
  EXPECT_EQ(run_in_child([] { return std::string(); }, "the work", std::chrono::seconds(60)), "");
}

// An osprey::Error is one line (a newline in it is written \x0a), and it
// comes back whole.
TEST(ChildProcess, ErrorLineBecomesTheCallersError) {
  EXPECT_EQ(error_in_child([]() -> std::string { fail("bad model: {}\nsecond line", 42); },
                           std::chrono::seconds(60)),
            "bad model: 42\\x0asecond line");
}

TEST(ChildProcess, ACrashIsAnErrorNamingTheWork) {
  const std::string segv = error_in_child(
      []() -> std::string {
        raise(SIGSEGV);
        return "not reached";
      },
      std::chrono::seconds(60));
  EXPECT_EQ(segv, "the work crashed on this input (signal 11, Segmentation fault)");
  const std::string abort = error_in_child([]() -> std::string { std::abort(); }, std::chrono::seconds(60));
  EXPECT_EQ(abort, "the work crashed on this input (signal 6, Aborted)");
  const std::string exit_early = error_in_child([]() -> std::string { _exit(0); }, std::chrono::seconds(60));
  EXPECT_EQ(exit_early, "the work crashed on this input (exit status 0)");
}

TEST(ChildProcess, ItsStderrGoesNowhere) {
  ::testing::internal::CaptureStderr();
  const std::string result = run_in_child(
      [] {
        std::fputs("libonnx warning\n", stderr);
        return std::string("done");
      },
      "the work", std::chrono::seconds(60));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(result, "done");
}

// A process that ignores SIGCHLD has no exit status to wait for: the child's
// message alone tells.
TEST(ChildProcess, WorksWhereChildrenAreReapedAutomatically) {
  const auto previous = signal(SIGCHLD, SIG_IGN);
  EXPECT_EQ(run_in_child([] { return std::string("done"); }, "the work", std::chrono::seconds(60)), "done");
  EXPECT_EQ(error_in_child([]() -> std::string { std::abort(); }, std::chrono::seconds(60)),
            "the work crashed on this input (no exit status)");
  signal(SIGCHLD, previous);
}

TEST(ChildProcess, AHangIsKilledAtTheLimit) {
  const auto start = std::chrono::steady_clock::now();
  const std::string e = error_in_child(
      []() -> std::string {
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
      },
      std::chrono::seconds(1));
  EXPECT_EQ(e, "the work did not finish within 1 s");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

}  // namespace
}  // namespace osprey
