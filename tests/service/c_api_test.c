/*
 * A C11 program written only against larod.h, built with
 * -std=c11 -Wall -Wextra -Wpedantic -Werror: the header is plain C and the
 * library links with -llarod. Runs against the ospreyd of run_with_daemon.sh.
 * usage: c_api_test TINY_MODEL.tflite
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "larod.h"

static int failures = 0;

#define CHECK(cond, ...)                                              \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                   \
      fputc('\n', stderr);                                            \
      failures++;                                                     \
    }                                                                 \
  } while (0)

static const char* msg(const larodError* e) {
  return e && e->msg ? e->msg : "(none)";
}

static atomic_int async_done = 0;
static atomic_int async_failed = 0;

static void on_done(void* user, larodError* error) {
  (void)user;
  if (error) atomic_fetch_add(&async_failed, 1);
  atomic_fetch_add(&async_done, 1);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: c_api_test MODEL\n");
    return 2;
  }
  larodError* e = NULL;
  larodConnection* conn = NULL;
  if (!larodConnect(&conn, &e)) {
    fprintf(stderr, "connect: %s\n", msg(e));
    return 1;
  }

  size_t num_devices = 0;
  const larodDevice** devs = larodListDevices(conn, &num_devices, &e);
  CHECK(devs && num_devices == 5, "%s", msg(e)); /* cpu-tflite, cpu-proc, 3 emulated DLPUs */
  free((void*)devs);
  const larodDevice* tflite = larodGetDevice(conn, "cpu-tflite", 0, &e);
  const larodDevice* proc = larodGetDevice(conn, "cpu-proc", 0, &e);
  CHECK(tflite && proc, "%s", msg(e));

  int fd = open(argv[1], O_RDONLY);
  larodModel* model = larodLoadModel(conn, fd, tflite, LAROD_ACCESS_PRIVATE, "tiny-c", NULL, &e);
  close(fd);
  CHECK(model != NULL, "%s", msg(e));
  if (!model) return 1;
  CHECK(larodGetModelNumInputs(model, NULL) == 1, "inputs");

  size_t n_in = 0, n_out = 0;
  larodTensor** in = larodAllocModelInputs(conn, model, LAROD_FD_TYPE_DISK, &n_in, NULL, &e);
  larodTensor** out = larodAllocModelOutputs(conn, model, LAROD_FD_TYPE_DISK, &n_out, NULL, &e);
  CHECK(in && out && n_in == 1 && n_out == 1, "%s", msg(e));
  if (!in || !out) return 1;
  size_t in_bytes = 0, out_bytes = 0;
  larodGetTensorByteSize(in[0], &in_bytes, NULL);
  larodGetTensorByteSize(out[0], &out_bytes, NULL);
  CHECK(in_bytes == 200 && out_bytes == 400, "%zu %zu", in_bytes, out_bytes);
  float* input = mmap(NULL, in_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, larodGetTensorFd(in[0], NULL), 0);
  float* output =
      mmap(NULL, out_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, larodGetTensorFd(out[0], NULL), 0);
  CHECK(input != MAP_FAILED && output != MAP_FAILED, "mmap");
  for (int i = 0; i < 50; ++i) input[i] = (float)(i % 7) * 0.25f - 0.5f;

  larodJobRequest* req = larodCreateJobRequest(model, in, n_in, out, n_out, NULL, &e);
  CHECK(req != NULL, "%s", msg(e));
  CHECK(larodSetJobRequestPriority(req, 70, &e), "%s", msg(e));
  CHECK(larodRunJob(conn, req, &e), "%s", msg(e));
  float first[100];
  memcpy(first, output, sizeof(first));
  int nonzero = 0;
  for (int i = 0; i < 100; ++i) nonzero += first[i] != 0.0f;
  CHECK(nonzero > 0, "output all zero");

  /* Async: the same job 10 times gives the same answer. */
  for (int i = 0; i < 10; ++i) CHECK(larodRunJobAsync(conn, req, on_done, NULL, &e), "%s", msg(e));
  for (int i = 0; i < 3000 && atomic_load(&async_done) < 10; ++i) sleep_ms(10);
  CHECK(atomic_load(&async_done) == 10 && atomic_load(&async_failed) == 0, "async %d failed %d",
        atomic_load(&async_done), atomic_load(&async_failed));
  CHECK(memcmp(first, output, sizeof(first)) == 0, "async result differs");

  /* Maps and cpu-proc: nv12 4x2 -> rgb-interleaved 4x2. */
  larodMap* map = larodCreateMap(&e);
  CHECK(larodMapSetStr(map, "image.input.format", "nv12", &e), "%s", msg(e));
  CHECK(larodMapSetStr(map, "image.output.format", "rgb-interleaved", &e), "%s", msg(e));
  CHECK(larodMapSetIntArr2(map, "image.input.size", 4, 2, &e), "%s", msg(e));
  const int64_t* size = larodMapGetIntArr2(map, "image.input.size", &e);
  CHECK(size && size[0] == 4 && size[1] == 2, "map");
  larodModel* pp = larodLoadModel(conn, -1, proc, LAROD_ACCESS_PRIVATE, "pp", map, &e);
  CHECK(pp != NULL, "%s", msg(e));
  larodDestroyMap(&map);
  if (pp) {
    size_t a, b;
    larodTensor** pin = larodAllocModelInputs(conn, pp, 0, &a, NULL, &e);
    larodTensor** pout = larodAllocModelOutputs(conn, pp, 0, &b, NULL, &e);
    CHECK(larodGetTensorLayout(pin[0], NULL) == LAROD_TENSOR_LAYOUT_420SP, "layout");
    uint8_t* nv12 = mmap(NULL, 12, PROT_READ | PROT_WRITE, MAP_SHARED, larodGetTensorFd(pin[0], NULL), 0);
    memset(nv12, 128, 12); /* mid grey */
    larodJobRequest* preq = larodCreateJobRequest(pp, pin, 1, pout, 1, NULL, &e);
    CHECK(larodRunJob(conn, preq, &e), "%s", msg(e));
    uint8_t* rgb = mmap(NULL, 24, PROT_READ, MAP_SHARED, larodGetTensorFd(pout[0], NULL), 0);
    CHECK(rgb[0] > 100 && rgb[0] < 160 && rgb[0] == rgb[1], "grey %u %u", rgb[0], rgb[1]);
    munmap(nv12, 12);
    munmap(rgb, 24);
    larodDestroyJobRequest(&preq);
    larodDestroyTensors(conn, &pin, a, NULL);
    larodDestroyTensors(conn, &pout, b, NULL);
    larodDestroyModel(&pp);
  }

  /* Errors: codes and messages. */
  CHECK(!larodRunJob(conn, NULL, &e) && e && e->code > 0 && e->msg, "EINVAL");
  larodClearError(&e);
  CHECK(e == NULL, "cleared");
  CHECK(larodGetModel(conn, 123456, &e) == NULL && e && e->code == LAROD_ERROR_MODEL_NOT_FOUND, "%s", msg(e));
  larodClearError(&e);

  uint64_t sessions = 0;
  CHECK(larodGetNumSessions(conn, &sessions, &e) && sessions == 1, "%s", msg(e));
  munmap(input, in_bytes);
  munmap(output, out_bytes);
  larodDestroyJobRequest(&req);
  CHECK(larodDestroyTensors(conn, &in, n_in, &e), "%s", msg(e));
  CHECK(larodDestroyTensors(conn, &out, n_out, &e), "%s", msg(e));
  CHECK(larodDeleteModel(conn, model, &e), "%s", msg(e));
  larodDestroyModel(&model);
  CHECK(larodDisconnect(&conn, &e) && conn == NULL, "%s", msg(e));
  if (failures) {
    fprintf(stderr, "c api test: %d failures\n", failures);
    return 1;
  }
  printf("c api test: ok\n");
  return 0;
}
