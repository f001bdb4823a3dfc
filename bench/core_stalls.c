// How well two threads of this machine work together: two threads bounce a
// counter between their cores for 0.3 s. Prints one JSON line: the round
// trip's median and 99th percentile, and the time lost to round trips over
// 50 us (a core taken away: by another process, or on a virtual machine by
// the host). osprey's thread pool pays such a stall whenever a worker holds
// part of an operation; docs/benchmarks.md shows these figures beside the
// 2-thread columns.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { kMaxTrips = 1 << 21 };

static _Alignas(64) atomic_uint_fast32_t ping;
static _Alignas(64) atomic_uint_fast32_t pong;
static atomic_int stop;

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void* echo(void* arg) {
  (void)arg;
  uint_fast32_t seen = 0;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    const uint_fast32_t v = atomic_load_explicit(&ping, memory_order_acquire);
    if (v != seen) {
      seen = v;
      atomic_store_explicit(&pong, v, memory_order_release);
    }
  }
  return NULL;
}

static int by_value(const void* a, const void* b) {
  const float x = *(const float*)a, y = *(const float*)b;
  return (x > y) - (x < y);
}

int main(void) {
  float* trips = malloc(sizeof(float) * kMaxTrips);
  if (!trips) return 1;
  pthread_t other;
  if (pthread_create(&other, NULL, echo, NULL) != 0) {
    fprintf(stderr, "core_stalls: cannot start a thread\n");
    return 1;
  }
  const double begin = now_us();
  double lost_us = 0;
  int n = 0, stalls = 0;
  for (uint_fast32_t i = 1; n < kMaxTrips; ++i) {
    const double t0 = now_us();
    if (t0 - begin > 3e5) break;
    atomic_store_explicit(&ping, i, memory_order_release);
    while (atomic_load_explicit(&pong, memory_order_acquire) != i) {
    }
    const double trip = now_us() - t0;
    trips[n++] = (float)trip;
    if (trip > 50) {
      ++stalls;
      lost_us += trip;
    }
  }
  const double total_us = now_us() - begin;
  atomic_store(&stop, 1);
  pthread_join(other, NULL);
  qsort(trips, (size_t)n, sizeof(float), by_value);
  printf(
      "{\"round_trips\": %d, \"round_trip_us_median\": %.3f, \"round_trip_us_p99\": %.3f, "
      "\"stalls_over_50us\": %d, \"stalled_ms\": %.1f, \"measured_ms\": %.1f, \"stalled_percent\": %.1f}\n",
      n, trips[n / 2], trips[(size_t)n * 99 / 100], stalls, lost_us / 1e3, total_us / 1e3,
      100.0 * lost_us / total_us);
  free(trips);
  return 0;
}
