/*
 * osprey-client: run a model through ospreyd the way larod-client does, with
 * its flags and output (timestamped log lines, the device table, output
 * files named FILE.out<i>, "Mean execution time for job: X ms").
 *
 *   osprey-client -a                                   list devices
 *   osprey-client -g model.tflite -c cpu-tflite -i '' -R 100 -w 5
 *   osprey-client -c cpu-proc -b image.input.format:nv12 -b image.input.size:1920,1080
 *                 -b image.output.format:rgb-interleaved -b image.output.size:300,300
 *                 -i frame.nv12 -o out.rgb
 *
 * Written against larod.h only.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "larod.h"

#define MAX_ARGS 64

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("osprey-client: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void die_larod(const char* what, larodError* error) {
  die("%s: %s (larod error %d)", what, error && error->msg ? error->msg : "unknown error",
      error ? (int)error->code : 0);
}

static void usage(FILE* out) {
  fprintf(out,
          "usage: osprey-client [-a] [-d] [-c DEVICE[:INSTANCE]] [-g MODEL] [-i INPUT]... [-o OUTPUT]...\n"
          "                     [-R ROUNDS] [-w WARMUP] [-b KEY:VALUE]... [-j KEY:VALUE]... [-p] [-v]\n"
          "                     [--priority N] [--seed N] [-h|--help]\n"
          "  -a                 list the service's devices\n"
          "  -c DEVICE          device to run on, by name (default cpu-tflite; cpu-proc needs no -g)\n"
          "  -d                 -c names a device (always so here; accepted as larod-client takes it)\n"
          "  -g MODEL           model file (.tflite)\n"
          "  -i INPUT           raw input bytes, one -i per model input in order; '' = random data\n"
          "                     (a single -i '' applies to every input; no -i means random)\n"
          "  -o OUTPUT          file for the next model output (raw bytes), one -o per output; without\n"
          "                     -o, output i goes to INPUT.out<i> (the first input file) or SEED.out<i>\n"
          "  -R ROUNDS          jobs to time (default 1)\n"
          "  -w WARMUP          untimed jobs first (default 0)\n"
          "  -b KEY:VALUE       model parameter: VALUE is an int, an int pair a,b, an int quad a,b,c,d,\n"
          "                     or else a string (e.g. image.input.format:nv12, image.input.size:640,480)\n"
          "  -j KEY:VALUE       job parameter, same syntax (e.g. image.input.crop:0,0,320,240)\n"
          "  -p                 print the timing summary (min, max, total) after the mean\n"
          "  -v                 print the model's tensors\n"
          "  --priority N       job priority 0..100 (default 50)\n"
          "  --seed N           seed of the random inputs (default: the time)\n"
          "  -h, --help         this text\n"
          "The service's socket is $OSPREY_SOCKET when set.\n");
}

/* A log line as larod-client prints them: local time, then the message. */
static void logline(const char* fmt, ...) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  localtime_r(&ts.tv_sec, &tm);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  printf("%s.%03ld ", stamp, ts.tv_nsec / 1000000);
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

static long parse_long(const char* flag, const char* text) {
  char* end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') die("%s needs a number, not '%s'", flag, text);
  return v;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* "KEY:VALUE" into a map; VALUE typed by its look. */
static void put_param(larodMap* map, const char* arg) {
  const char* colon = strchr(arg, ':');
  if (!colon || colon == arg) die("parameter '%s' is not KEY:VALUE", arg);
  char key[256];
  size_t klen = (size_t)(colon - arg);
  if (klen >= sizeof(key)) die("parameter key too long in '%s'", arg);
  memcpy(key, arg, klen);
  key[klen] = '\0';
  const char* value = colon + 1;
  int64_t v[4];
  int n = 0;
  const char* p = value;
  int numeric = *p != '\0';
  while (numeric && *p) {
    char* end;
    errno = 0;
    long long x = strtoll(p, &end, 10);
    if (end == p || errno != 0 || n == 4) {
      numeric = 0;
      break;
    }
    v[n++] = (int64_t)x;
    if (*end == ',') {
      p = end + 1;
      if (*p == '\0') numeric = 0;
    } else if (*end == '\0') {
      p = end;
    } else {
      numeric = 0;
    }
  }
  larodError* error = NULL;
  int ok;
  if (numeric && n == 1) {
    ok = larodMapSetInt(map, key, v[0], &error);
  } else if (numeric && n == 2) {
    ok = larodMapSetIntArr2(map, key, v[0], v[1], &error);
  } else if (numeric && n == 4) {
    ok = larodMapSetIntArr4(map, key, v[0], v[1], v[2], v[3], &error);
  } else {
    ok = larodMapSetStr(map, key, value, &error);
  }
  if (!ok) die_larod("setting a parameter", error);
}

static const char* type_name(larodTensorDataType t) {
  static const char* const names[] = {"invalid", "unspecified", "bool",    "uint8",  "int8",
                                      "uint16",  "int16",       "uint32",  "int32",  "uint64",
                                      "int64",   "float16",     "float32", "float64"};
  return (int)t >= 0 && t < LAROD_TENSOR_DATA_TYPE_MAX ? names[t] : "?";
}

static const char* layout_name(larodTensorLayout l) {
  static const char* const names[] = {"invalid", "unspecified", "NHWC", "NCHW", "420SP"};
  return (int)l >= 0 && l < LAROD_TENSOR_LAYOUT_MAX ? names[l] : "?";
}

static void print_tensors(const char* side, larodTensor** t, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const larodTensorDims* d = larodGetTensorDims(t[i], NULL);
    size_t bytes = 0;
    larodGetTensorByteSize(t[i], &bytes, NULL);
    printf("  %s %zu '%s': [", side, i, larodGetTensorName(t[i], NULL));
    for (size_t k = 0; d && k < d->len; ++k) printf("%s%zu", k ? ", " : "", d->dims[k]);
    printf("] %s %s, %zu bytes\n", type_name(larodGetTensorDataType(t[i], NULL)),
           layout_name(larodGetTensorLayout(t[i], NULL)), bytes);
  }
}

static void* map_tensor(larodTensor* t, size_t* size) {
  larodError* error = NULL;
  size_t fd_size = 0;
  if (!larodGetTensorFdSize(t, &fd_size, &error)) die_larod("tensor fd size", error);
  void* p = mmap(NULL, fd_size, PROT_READ | PROT_WRITE, MAP_SHARED, larodGetTensorFd(t, NULL), 0);
  if (p == MAP_FAILED) die("mmap of a tensor: %s", strerror(errno));
  *size = fd_size;
  return p;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static void seed_random(uint64_t seed) {
  rng_state = (seed + 1) * 0x9E3779B97F4A7C15ull; /* never 0: xorshift would stay 0 */
  if (rng_state == 0) rng_state = 1;
}
static uint64_t next_random(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void fill_input(larodTensor* t, const char* path, void* mem, size_t bytes) {
  if (path && *path) {
    FILE* f = fopen(path, "rb");
    if (!f) die("cannot open input '%s': %s", path, strerror(errno));
    size_t got = fread(mem, 1, bytes, f);
    int extra = fgetc(f);
    fclose(f);
    if (got != bytes || extra != EOF) {
      die("input '%s' must hold exactly %zu bytes (the tensor's size)", path, bytes);
    }
    return;
  }
  if (larodGetTensorDataType(t, NULL) == LAROD_TENSOR_DATA_TYPE_FLOAT32) {
    float* f = (float*)mem;
    for (size_t i = 0; i < bytes / sizeof(float); ++i)
      f[i] = (float)((double)(next_random() % 2001) / 1000.0 - 1.0);
  } else {
    uint8_t* b = (uint8_t*)mem;
    for (size_t i = 0; i < bytes; ++i) b[i] = (uint8_t)next_random();
  }
}

/* The device table of larod-client -a. */
static void list_devices(larodConnection* conn) {
  larodError* error = NULL;
  size_t n = 0;
  const larodDevice** devs = larodListDevices(conn, &n, &error);
  if (!devs) die_larod("listing devices", error);
  static const char rule[] = "___________________________________________";
  logline("Devices:");
  printf("%s\n %-33sInstance\n", rule, "Name");
  for (size_t i = 0; i < sizeof(rule) - 1; ++i) fputs("\u203e", stdout);
  putchar('\n');
  for (size_t i = 0; i < n; ++i) {
    uint32_t instance = 0;
    larodGetDeviceInstance(devs[i], &instance, NULL);
    printf(" %-33s%u\n", larodGetDeviceName(devs[i], NULL), instance);
  }
  printf("%s\n", rule);
  free(devs);
}

/* Where output i goes: the i-th -o, else INPUT.out<i> after the first input
 * file, else SEED.out<i> (random inputs), as larod-client names them. */
static void output_path(char* path, size_t size, size_t i, const char* const* outputs, size_t num_outputs,
                        const char* first_input, uint64_t seed) {
  if (num_outputs > 0) {
    snprintf(path, size, "%s", outputs[i]);
  } else if (first_input) {
    snprintf(path, size, "%s.out%zu", first_input, i);
  } else {
    snprintf(path, size, "%llu.out%zu", (unsigned long long)seed, i);
  }
}

int main(int argc, char** argv) {
  const char* device_arg = "cpu-tflite";
  const char* model_path = NULL;
  const char* inputs[MAX_ARGS];
  size_t num_inputs = 0;
  const char* outputs[MAX_ARGS];
  size_t num_outputs = 0;
  const char* model_params[MAX_ARGS];
  size_t num_model_params = 0;
  const char* job_params[MAX_ARGS];
  size_t num_job_params = 0;
  long rounds = 1, warmup = 0, priority = 50;
  uint64_t seed = (uint64_t)time(NULL);
  int list = 0, verbose = 0, summary = 0;

  enum { OPT_PRIORITY = 256, OPT_SEED };
  static const struct option long_options[] = {{"help", no_argument, NULL, 'h'},
                                               {"priority", required_argument, NULL, OPT_PRIORITY},
                                               {"seed", required_argument, NULL, OPT_SEED},
                                               {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "ac:dg:i:o:R:w:b:j:pvh", long_options, NULL)) != -1) {
    switch (c) {
      case 'a': list = 1; break;
      case 'c': device_arg = optarg; break;
      case 'd': break; /* -c always takes a device name */
      case 'g': model_path = optarg; break;
      case 'i':
        if (num_inputs == MAX_ARGS) die("too many -i");
        inputs[num_inputs++] = optarg;
        break;
      case 'o':
        if (num_outputs == MAX_ARGS) die("too many -o");
        outputs[num_outputs++] = optarg;
        break;
      case 'R': rounds = parse_long("-R", optarg); break;
      case 'w': warmup = parse_long("-w", optarg); break;
      case 'b':
        if (num_model_params == MAX_ARGS) die("too many -b");
        model_params[num_model_params++] = optarg;
        break;
      case 'j':
        if (num_job_params == MAX_ARGS) die("too many -j");
        job_params[num_job_params++] = optarg;
        break;
      case 'p': summary = 1; break;
      case 'v': verbose = 1; break;
      case OPT_PRIORITY: priority = parse_long("--priority", optarg); break;
      case OPT_SEED: seed = (uint64_t)parse_long("--seed", optarg); break;
      case 'h': usage(stdout); return 0;
      default: usage(stderr); return 2;
    }
  }
  if (optind != argc) die("unexpected argument '%s' (see --help)", argv[optind]);
  if (rounds < 1 || warmup < 0) die("-R must be at least 1 and -w at least 0");
  if (priority < 0 || priority > 100) die("--priority must be 0..100");

  larodError* error = NULL;
  larodConnection* conn = NULL;
  logline("Connecting to ospreyd...");
  if (!larodConnect(&conn, &error)) die_larod("connecting to ospreyd", error);
  logline("Connected");

  if (list) {
    list_devices(conn);
    larodDisconnect(&conn, NULL);
    return 0;
  }

  char device_name[128];
  uint32_t instance = 0;
  snprintf(device_name, sizeof(device_name), "%s", device_arg);
  char* colon = strchr(device_name, ':');
  if (colon) {
    *colon = '\0';
    instance = (uint32_t)strtoul(colon + 1, NULL, 10);
  }
  const larodDevice* dev = larodGetDevice(conn, device_name, instance, &error);
  if (!dev) die_larod("finding the device", error);

  larodMap* params = larodCreateMap(&error);
  if (!params) die_larod("creating a map", error);
  for (size_t i = 0; i < num_model_params; ++i) put_param(params, model_params[i]);

  int model_fd = -1;
  const char* name = "osprey-client";
  if (model_path) {
    model_fd = open(model_path, O_RDONLY | O_CLOEXEC);
    if (model_fd < 0) die("cannot open model '%s': %s", model_path, strerror(errno));
    const char* slash = strrchr(model_path, '/');
    name = slash ? slash + 1 : model_path;
  }
  larodModel* model = larodLoadModel(conn, model_fd, dev, LAROD_ACCESS_PRIVATE, name, params, &error);
  if (!model) die_larod("loading the model", error);
  logline("Model %s loaded", name);
  if (model_fd >= 0) close(model_fd);

  size_t n_in = 0, n_out = 0;
  larodTensor** in = larodAllocModelInputs(conn, model, LAROD_FD_PROP_MAP, &n_in, NULL, &error);
  if (!in) die_larod("allocating input tensors", error);
  larodTensor** out = larodAllocModelOutputs(conn, model, LAROD_FD_PROP_MAP, &n_out, NULL, &error);
  if (!out) die_larod("allocating output tensors", error);
  if (verbose) {
    print_tensors("input", in, n_in);
    print_tensors("output", out, n_out);
  }
  if (num_inputs > 1 && num_inputs != n_in)
    die("the model has %zu inputs but %zu -i were given", n_in, num_inputs);
  if (num_outputs > 0 && num_outputs != n_out)
    die("the model has %zu outputs but %zu -o were given (one -o per output)", n_out, num_outputs);

  void* in_mem[MAX_ARGS];
  size_t in_size[MAX_ARGS];
  void* out_mem[MAX_ARGS];
  size_t out_size[MAX_ARGS];
  if (n_in > MAX_ARGS || n_out > MAX_ARGS) die("the model has too many tensors");
  const char* first_input = NULL; /* the first input file, which names the outputs */
  int any_random = 0;
  for (size_t i = 0; i < n_in; ++i) {
    const char* path = num_inputs == 0 ? "" : (num_inputs == 1 ? inputs[0] : inputs[i]);
    if (num_inputs == 1 && n_in > 1 && *path) die("the model has %zu inputs; give one -i per input", n_in);
    if (*path && !first_input) first_input = path;
    if (!*path) any_random = 1;
  }
  if (any_random) {
    seed_random(seed);
    logline("Setting up randomly generated input tensors using random seed %llu", (unsigned long long)seed);
  }
  for (size_t i = 0; i < n_in; ++i) {
    in_mem[i] = map_tensor(in[i], &in_size[i]);
    size_t bytes = 0;
    if (!larodGetTensorByteSize(in[i], &bytes, &error)) die_larod("input byte size", error);
    const char* path = num_inputs == 0 ? "" : (num_inputs == 1 ? inputs[0] : inputs[i]);
    fill_input(in[i], path, in_mem[i], bytes);
  }
  for (size_t i = 0; i < n_out; ++i) out_mem[i] = map_tensor(out[i], &out_size[i]);

  larodMap* jparams = NULL;
  if (num_job_params > 0) {
    jparams = larodCreateMap(&error);
    if (!jparams) die_larod("creating a map", error);
    for (size_t i = 0; i < num_job_params; ++i) put_param(jparams, job_params[i]);
  }
  larodJobRequest* req = larodCreateJobRequest(model, in, n_in, out, n_out, jparams, &error);
  if (!req) die_larod("creating the job request", error);
  if (!larodSetJobRequestPriority(req, (uint8_t)priority, &error)) die_larod("setting the priority", error);

  if (warmup > 0) logline("Running %ld warm-up round(s)...", warmup);
  for (long i = 0; i < warmup; ++i) {
    if (!larodRunJob(conn, req, &error)) die_larod("running a warm-up job", error);
  }
  logline("Running job for %ld round(s)...", rounds);
  double total = 0, fastest = 0, slowest = 0;
  for (long i = 0; i < rounds; ++i) {
    double start = now_ms();
    if (!larodRunJob(conn, req, &error)) die_larod("running the job", error);
    const double took = now_ms() - start;
    total += took;
    if (i == 0 || took < fastest) fastest = took;
    if (took > slowest) slowest = took;
  }

  logline("Output written to:");
  for (size_t i = 0; i < n_out; ++i) {
    size_t bytes = 0;
    larodGetTensorByteSize(out[i], &bytes, NULL);
    char path[4096];
    output_path(path, sizeof(path), i, outputs, num_outputs, first_input, seed);
    FILE* f = fopen(path, "wb");
    if (!f || fwrite(out_mem[i], 1, bytes, f) != bytes || fclose(f) != 0)
      die("cannot write output '%s': %s", path, strerror(errno));
    logline("%s", path);
  }
  logline("Mean execution time for job: %.2f ms", total / (double)rounds);
  if (summary) {
    logline("Execution time over %ld round(s) (%ld warm-up): min %.2f ms, max %.2f ms, total %.2f ms", rounds,
            warmup, fastest, slowest, total);
  }

  for (size_t i = 0; i < n_in; ++i) munmap(in_mem[i], in_size[i]);
  for (size_t i = 0; i < n_out; ++i) munmap(out_mem[i], out_size[i]);
  larodDestroyJobRequest(&req);
  larodDestroyMap(&jparams);
  larodDestroyMap(&params);
  larodDestroyTensors(conn, &in, n_in, NULL);
  larodDestroyTensors(conn, &out, n_out, NULL);
  larodDeleteModel(conn, model, NULL);
  larodDestroyModel(&model);
  larodDisconnect(&conn, NULL);
  return 0;
}
