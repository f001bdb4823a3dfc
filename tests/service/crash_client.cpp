// A client that gets killed: loads a public model, queues jobs and waits to
// be SIGKILLed by reliability_test (usage: crash_client MODEL queue|loop).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>

#include "larod.h"

namespace {

std::atomic<int> in_flight{0};

void done(void*, larodError*) {
  in_flight--;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const bool loop = std::strcmp(argv[2], "loop") == 0;
  larodError* e = nullptr;
  larodConnection* c = nullptr;
  if (!larodConnect(&c, &e)) {
    std::fprintf(stderr, "connect: %s\n", e->msg);
    return 1;
  }
  const larodDevice* dev = larodGetDevice(c, "cpu-tflite", 0, &e);
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  larodModel* m = larodLoadModel(c, fd, dev, LAROD_ACCESS_PUBLIC, "crash-victim", nullptr, &e);
  if (!m) {
    std::fprintf(stderr, "load: %s\n", e->msg);
    return 1;
  }
  size_t n;
  larodTensor** in = larodAllocModelInputs(c, m, 0, &n, nullptr, &e);
  larodTensor** out = larodAllocModelOutputs(c, m, 0, &n, nullptr, &e);
  larodJobRequest* req = larodCreateJobRequest(m, in, 1, out, 1, nullptr, &e);
  if (!req) return 1;
  if (!loop) {
    for (int i = 0; i < 50; ++i) {
      in_flight++;
      larodRunJobAsync(c, req, done, nullptr, &e);
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    if (loop) {
      while (in_flight.load() < 8) {
        in_flight++;
        if (!larodRunJobAsync(c, req, done, nullptr, &e)) return 1;
      }
      larodRunJob(c, req, &e);
    } else {
      pause();
    }
  }
}
