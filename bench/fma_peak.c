// Single-core fp32 FMA peak: independent chains of vfmadd on registers only
// (no memory traffic), for AVX-512 (16 lanes) and AVX2/FMA3 (8 lanes); and
// the int8 peak of the instruction osprey's int8 kernels multiply with on
// this CPU: AVX-512 VNNI vpdpbusd (64 byte multiply-adds per instruction),
// else vpmaddwd plus vpaddd (16-bit pairs: 32 multiply-adds on AVX-512, 16 on
// AVX2); the best of several timed repetitions. Prints one JSON object:
//   {"threads": 1, "avx512_gflops": .., "avx2_gflops": .., "peak_gflops": .., "peak_gmacs": ..,
//    "vnni_int8_gops": .., "vnni_int8_gmacs": .., "int8_gops": .., "int8_gmacs": ..,
//    "int8_instruction": ".."}   (vnni 0 without AVX-512 VNNI)
// With --threads N, N threads run each loop at the same time and the figures
// are their sum: what N cores deliver together. On a virtual machine whose
// vCPUs share one physical core's vector units that is no more than one
// core's peak, and no N-thread inference can scale beyond it.
// Build: cc -O2 -pthread -o fma_peak fma_peak.c   (ISA chosen per function; no -march needed)
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// 12 independent accumulators hide the FMA latency (4 cycles) on two pipes.
#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((target("avx512f"), noinline)) static float fma512(long iterations) {
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
#define DECL(i) __m512 acc##i = _mm512_set1_ps((float)(i));
  CHAINS(DECL)
#undef DECL
  for (long n = 0; n < iterations; ++n) {
#define STEP(i) acc##i = _mm512_fmadd_ps(acc##i, a, b);
    CHAINS(STEP)
#undef STEP
  }
  __m512 sum = _mm512_setzero_ps();
#define SUM(i) sum = _mm512_add_ps(sum, acc##i);
  CHAINS(SUM)
#undef SUM
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"), noinline)) static float fma256(long iterations) {
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
#define DECL(i) __m256 acc##i = _mm256_set1_ps((float)(i));
  CHAINS(DECL)
#undef DECL
  for (long n = 0; n < iterations; ++n) {
#define STEP(i) acc##i = _mm256_fmadd_ps(acc##i, a, b);
    CHAINS(STEP)
#undef STEP
  }
  __m256 sum = _mm256_setzero_ps();
#define SUM(i) sum = _mm256_add_ps(sum, acc##i);
  CHAINS(SUM)
#undef SUM
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}

// The same 12 chains of vpdpbusd (64 u8 x s8 products summed into 16 int32 lanes).
__attribute__((target("avx512f,avx512vnni"), noinline)) static float vnni512(long iterations) {
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-5);
#define DECL(i) __m512i acc##i = _mm512_set1_epi32(i);
  CHAINS(DECL)
#undef DECL
  for (long n = 0; n < iterations; ++n) {
#define STEP(i) acc##i = _mm512_dpbusd_epi32(acc##i, a, b);
    CHAINS(STEP)
#undef STEP
  }
  __m512i sum = _mm512_setzero_si512();
#define SUM(i) sum = _mm512_add_epi32(sum, acc##i);
  CHAINS(SUM)
#undef SUM
  return (float)_mm512_reduce_add_epi32(sum);
}

// The multiply-accumulate of the kernels without VNNI: 16-bit pair products
// (vpmaddwd) added to int32 sums (vpaddd). Each chain multiplies its own sum,
// so no product can be hoisted or shared; 12 chains cover both latencies.
__attribute__((target("avx512f,avx512bw"), noinline)) static float madd512(long iterations) {
  const __m512i b = _mm512_set1_epi16(-5);
#define DECL(i) __m512i acc##i = _mm512_set1_epi32(i);
  CHAINS(DECL)
#undef DECL
  for (long n = 0; n < iterations; ++n) {
#define STEP(i) acc##i = _mm512_add_epi32(acc##i, _mm512_madd_epi16(acc##i, b));
    CHAINS(STEP)
#undef STEP
  }
  __m512i sum = _mm512_setzero_si512();
#define SUM(i) sum = _mm512_add_epi32(sum, acc##i);
  CHAINS(SUM)
#undef SUM
  return (float)_mm512_reduce_add_epi32(sum);
}

__attribute__((target("avx2"), noinline)) static float madd256(long iterations) {
  const __m256i b = _mm256_set1_epi16(-5);
#define DECL(i) __m256i acc##i = _mm256_set1_epi32(i);
  CHAINS(DECL)
#undef DECL
  for (long n = 0; n < iterations; ++n) {
#define STEP(i) acc##i = _mm256_add_epi32(acc##i, _mm256_madd_epi16(acc##i, b));
    CHAINS(STEP)
#undef STEP
  }
  __m256i sum = _mm256_setzero_si256();
#define SUM(i) sum = _mm256_add_epi32(sum, acc##i);
  CHAINS(SUM)
#undef SUM
  int lanes[8];
  _mm256_storeu_si256((__m256i*)lanes, sum);
  return (float)(lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7]);
}

static volatile float sink;

// Best GFLOP/s (2 operations per lane per FMA or per byte product) over `reps` runs of ~0.2 s each.
static double measure(float (*kernel)(long), int lanes, int reps) {
  const long iterations = 20L * 1000 * 1000;
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now();
    sink = kernel(iterations);
    const double seconds = now() - t0;
    const double gflops = 2.0 * lanes * 12.0 * (double)iterations / seconds / 1e9;
    if (gflops > best) best = gflops;
  }
  return best;
}

// One thread's share of a concurrent measurement.
struct job {
  float (*kernel)(long);
  int lanes, reps;
  pthread_barrier_t* start;
  double gflops;
};

static void* run_job(void* arg) {
  struct job* j = arg;
  pthread_barrier_wait(j->start);
  j->gflops = measure(j->kernel, j->lanes, j->reps);
  return NULL;
}

// measure() on `threads` threads at once, started together: the sum of theirs.
static double measure_on(int threads, float (*kernel)(long), int lanes, int reps) {
  if (threads == 1) return measure(kernel, lanes, reps);
  pthread_t ids[64];
  struct job jobs[64];
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)threads);
  for (int t = 0; t < threads; ++t) {
    jobs[t] = (struct job){kernel, lanes, reps, &start, 0.0};
    if (pthread_create(&ids[t], NULL, run_job, &jobs[t]) != 0) {
      fprintf(stderr, "fma_peak: cannot start thread %d\n", t);
      exit(1);
    }
  }
  double sum = 0;
  for (int t = 0; t < threads; ++t) {
    pthread_join(ids[t], NULL);
    sum += jobs[t].gflops;
  }
  pthread_barrier_destroy(&start);
  return sum;
}

int main(int argc, char** argv) {
  int reps = 10, threads = 1;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--quick") == 0) {
      reps = 3;
    } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: fma_peak [--quick] [--threads N]\n");
      return 2;
    }
  }
  if (threads < 1 || threads > 64) {
    fprintf(stderr, "fma_peak: --threads must be 1 to 64\n");
    return 2;
  }
  __builtin_cpu_init();
  const int has512 = __builtin_cpu_supports("avx512f");
  const int has256 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const double g512 = has512 ? measure_on(threads, fma512, 16, reps) : 0.0;
  const double g256 = has256 ? measure_on(threads, fma256, 8, reps) : 0.0;
  const double peak = g512 > g256 ? g512 : g256;
  // 64 multiply-adds per instruction: measure() counts 2 operations per lane.
  const double vnni =
      has512 && __builtin_cpu_supports("avx512vnni") ? measure_on(threads, vnni512, 64, reps) : 0.0;
  // Without VNNI, the 16-bit pair multiply-adds the int8 kernels fall back to.
  const int has512bw = has512 && __builtin_cpu_supports("avx512bw");
  const char* int8_instruction = vnni > 0 ? "vpdpbusd" : has512bw ? "vpmaddwd-512" : has256 ? "vpmaddwd-256" : "none";
  const double int8 = vnni > 0    ? vnni
                      : has512bw ? measure_on(threads, madd512, 32, reps)
                      : has256   ? measure_on(threads, madd256, 16, reps)
                                 : 0.0;
  printf(
      "{\"threads\": %d, \"avx512_gflops\": %.2f, \"avx2_gflops\": %.2f, \"peak_gflops\": %.2f, "
      "\"peak_gmacs\": %.2f, \"vnni_int8_gops\": %.2f, \"vnni_int8_gmacs\": %.2f, \"int8_gops\": %.2f, "
      "\"int8_gmacs\": %.2f, \"int8_instruction\": \"%s\"}\n",
      threads, g512, g256, peak, peak / 2, vnni, vnni / 2, int8, int8 / 2, int8_instruction);
  return 0;
}
