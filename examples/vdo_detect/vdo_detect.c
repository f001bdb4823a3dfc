/*
 * vdo_detect: object detection on a VDO stream, written the way a camera app
 * (ACAP) is, against the camera's APIs only: VDO (vdo-*.h) for frames and
 * Larod (larod.h) for preprocessing and inference. Off-camera it runs on
 * osprey's libvdostream (OSPREY_VDO_SOURCE=video.avi) and ospreyd.
 *
 *   NV12 frames from VDO (memfd buffers, tracked by Larod: zero copy)
 *   -> cpu-proc: centre-square crop, scale to the model's input, NV12 -> RGB
 *   -> the detector on DEVICE (default axis-a8-dlpu-tflite: a quantized SSD
 *      ending in TFLite_Detection_PostProcess, whose four float outputs are
 *      boxes, classes, scores and count)
 *   -> one JSON line per frame on stdout.
 *
 * Usage: vdo_detect [-d DEVICE] [-n FRAMES] [-t MIN_SCORE] [-l LABELS] [-o DUMP_DIR] MODEL
 * LABELS: a text file, line i naming class i of the post-process op (which
 * leaves out the background class), as the public examples' labels.txt.
 * With -o, the RGB input of frame k is written to DUMP_DIR/frame<k>.png, so
 * the results can be checked against `osprey detect` on the same pixels.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <larod.h>
#include <vdo-buffer.h>
#include <vdo-error.h>
#include <vdo-frame.h>
#include <vdo-map.h>
#include <vdo-stream.h>
#include <vdo-types.h>

#include "png_dump.h"

// VDO gives each stream at most this many buffers here; one tracked input
// tensor per buffer.
#define MAX_BUFFERS 8
// The post-process op's outputs: boxes [1,N,4], classes [1,N], scores [1,N], count [1].
#define NUM_DETECTION_OUTPUTS 4

typedef struct {
  const char* device;
  const char* model_path;
  const char* dump_dir;
  const char* labels_path;
  unsigned frames;  // 0: until the stream ends
  float min_score;
} options_t;

typedef struct {
  void* data;
  size_t size;
} mapping_t;

typedef struct {
  gchar* text;  // the file, its newlines replaced by NULs
  gchar** names;
  size_t count;
} labels_t;

typedef struct {
  larodConnection* conn;
  larodModel* pp_model;
  larodModel* model;
  larodTensor** pp_outputs;  // the RGB image, also the detector's input
  size_t num_pp_outputs;
  larodTensor** outputs;
  size_t num_outputs;
  mapping_t rgb;
  mapping_t output_maps[NUM_DETECTION_OUTPUTS];
  larodMap* crop;
  larodJobRequest* pp_req;
  larodJobRequest* inf_req;
  // VDO buffer fd -> its tracked tensor, set up on first sight.
  int tracked_fds[MAX_BUFFERS];
  larodTensor** tracked[MAX_BUFFERS];
  size_t num_tracked;
  unsigned in_width, in_height, in_pitch;  // the stream's NV12 frames
  unsigned width, height, pitch;           // the detector's RGB input
} pipeline_t;

static void die(const char* fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fputs("vdo_detect: ", stderr);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
  exit(EXIT_FAILURE);
}

static void usage(void) {
  fprintf(stderr,
          "usage: vdo_detect [-d DEVICE] [-n FRAMES] [-t MIN_SCORE] [-l LABELS] [-o DUMP_DIR] MODEL\n"
          "  frames come from VDO (off-camera: OSPREY_VDO_SOURCE=video file)\n");
}

static options_t parse_options(int argc, char** argv) {
  options_t opt = {"axis-a8-dlpu-tflite", NULL, NULL, NULL, 0, 0.0f};
  int c;
  while ((c = getopt(argc, argv, "d:n:t:l:o:h")) != -1) {
    char* end = NULL;
    switch (c) {
      case 'd': opt.device = optarg; break;
      case 'n':
        opt.frames = (unsigned)strtoul(optarg, &end, 10);
        if (*optarg == '\0' || *end != '\0') {
          die("-n wants a number of frames, got '%s'", optarg);
        }
        break;
      case 't':
        opt.min_score = strtof(optarg, &end);
        if (*optarg == '\0' || *end != '\0' || opt.min_score < 0.0f || opt.min_score > 1.0f) {
          die("-t wants a score in [0, 1], got '%s'", optarg);
        }
        break;
      case 'o': opt.dump_dir = optarg; break;
      case 'l': opt.labels_path = optarg; break;
      default: usage(); exit(c == 'h' ? EXIT_SUCCESS : EXIT_FAILURE);
    }
  }
  if (optind + 1 != argc) {
    usage();
    exit(EXIT_FAILURE);
  }
  opt.model_path = argv[optind];
  return opt;
}

static labels_t read_labels(const char* path) {
  labels_t labels = {NULL, NULL, 0};
  if (!path) {
    return labels;
  }
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &labels.text, NULL, &error)) {
    die("labels: %s", error->message);
  }
  labels.names = g_strsplit(labels.text, "\n", -1);
  labels.count = g_strv_length(labels.names);
  for (size_t i = 0; i < labels.count; i++) {
    g_strstrip(labels.names[i]);
  }
  return labels;
}

static mapping_t map_tensor(larodTensor* tensor, int prot) {
  larodError* error = NULL;
  mapping_t m = {NULL, 0};
  const int fd = larodGetTensorFd(tensor, &error);
  if (fd == LAROD_INVALID_FD || !larodGetTensorFdSize(tensor, &m.size, &error)) {
    die("output tensor fd: %s", error->msg);
  }
  m.data = mmap(NULL, m.size, prot, MAP_SHARED, fd, 0);
  if (m.data == MAP_FAILED) {
    die("mmap of a tensor: %s", strerror(errno));
  }
  return m;
}

// The detector: loaded on DEVICE from the model file; its input size decides
// the preprocessing output.
static void load_detector(pipeline_t* p, const options_t* opt) {
  larodError* error = NULL;
  const larodDevice* device = larodGetDevice(p->conn, opt->device, 0, &error);
  if (!device) {
    die("device %s: %s", opt->device, error->msg);
  }
  const int fd = open(opt->model_path, O_RDONLY);
  if (fd < 0) {
    die("%s: %s", opt->model_path, strerror(errno));
  }
  p->model = larodLoadModel(p->conn, fd, device, LAROD_ACCESS_PRIVATE, "vdo_detect", NULL, &error);
  close(fd);
  if (!p->model) {
    die("loading %s on %s: %s", opt->model_path, opt->device, error->msg);
  }
  size_t num_inputs = 0;
  larodTensor** inputs = larodCreateModelInputs(p->model, &num_inputs, &error);
  if (!inputs || num_inputs != 1) {
    die("the detector must have one input (%s)", inputs ? "it has more" : error->msg);
  }
  const larodTensorDims* dims = larodGetTensorDims(inputs[0], &error);
  if (!dims || dims->len != 4 || dims->dims[3] != 3 ||
      larodGetTensorDataType(inputs[0], &error) != LAROD_TENSOR_DATA_TYPE_UINT8) {
    die("the detector's input must be uint8 NHWC RGB, as a quantized model for a DLPU has");
  }
  p->height = (unsigned)dims->dims[1];
  p->width = (unsigned)dims->dims[2];
  larodDestroyTensors(p->conn, &inputs, num_inputs, &error);

  p->outputs = larodAllocModelOutputs(p->conn, p->model, LAROD_FD_PROP_READWRITE | LAROD_FD_PROP_MAP,
                                      &p->num_outputs, NULL, &error);
  if (!p->outputs) {
    die("output tensors: %s", error->msg);
  }
  if (p->num_outputs != NUM_DETECTION_OUTPUTS) {
    die("the detector has %zu outputs; expected boxes, classes, scores, count "
        "(a model ending in TFLite_Detection_PostProcess)",
        p->num_outputs);
  }
  for (size_t i = 0; i < NUM_DETECTION_OUTPUTS; i++) {
    if (larodGetTensorDataType(p->outputs[i], &error) != LAROD_TENSOR_DATA_TYPE_FLOAT32) {
      die("detector output %zu is not float32", i);
    }
    p->output_maps[i] = map_tensor(p->outputs[i], PROT_READ);
  }
}

// cpu-proc: the stream's NV12 frame, centre square cropped, scaled to the
// detector's input and converted to interleaved RGB.
static void load_preprocessing(pipeline_t* p) {
  larodError* error = NULL;
  larodMap* map = larodCreateMap(&error);
  if (!map || !larodMapSetStr(map, "image.input.format", "nv12", &error) ||
      !larodMapSetIntArr2(map, "image.input.size", p->in_width, p->in_height, &error) ||
      !larodMapSetInt(map, "image.input.row-pitch", p->in_pitch, &error) ||
      !larodMapSetStr(map, "image.output.format", "rgb-interleaved", &error) ||
      !larodMapSetIntArr2(map, "image.output.size", p->width, p->height, &error)) {
    die("preprocessing settings: %s", error->msg);
  }
  const larodDevice* device = larodGetDevice(p->conn, "cpu-proc", 0, &error);
  p->pp_model = device ? larodLoadModel(p->conn, -1, device, LAROD_ACCESS_PRIVATE, "", map, &error) : NULL;
  larodDestroyMap(&map);
  if (!p->pp_model) {
    die("cpu-proc: %s", error->msg);
  }
  p->pp_outputs = larodAllocModelOutputs(p->conn, p->pp_model, LAROD_FD_PROP_READWRITE | LAROD_FD_PROP_MAP,
                                         &p->num_pp_outputs, NULL, &error);
  if (!p->pp_outputs || p->num_pp_outputs != 1) {
    die("cpu-proc output: %s", p->pp_outputs ? "more than one tensor" : error->msg);
  }
  const larodTensorPitches* pitches = larodGetTensorPitches(p->pp_outputs[0], &error);
  if (!pitches || pitches->len != 4) {
    die("cpu-proc output pitches: %s", error ? error->msg : "not NHWC");
  }
  p->pitch = (unsigned)pitches->pitches[2];
  p->rgb = map_tensor(p->pp_outputs[0], PROT_READ);

  // The centre square of the frame (even numbers, as NV12 crops need).
  const unsigned side = (p->in_width < p->in_height ? p->in_width : p->in_height) & ~1u;
  p->crop = larodCreateMap(&error);
  if (!p->crop || !larodMapSetIntArr4(p->crop, "image.input.crop", ((p->in_width - side) / 2) & ~1u,
                                      ((p->in_height - side) / 2) & ~1u, side, side, &error)) {
    die("crop: %s", error->msg);
  }
}

// The tensor describing VDO buffer `buf`, made and tracked the first time the
// buffer is seen: the daemon then reads the frame from the buffer's own memory.
static larodTensor** tensor_for_buffer(pipeline_t* p, VdoBuffer* buf, gboolean vmem) {
  larodError* error = NULL;
  const int buf_fd = vdo_buffer_get_fd(buf);
  for (size_t i = 0; i < p->num_tracked; i++) {
    if (p->tracked_fds[i] == buf_fd) {
      return p->tracked[i];
    }
  }
  if (p->num_tracked == MAX_BUFFERS) {
    die("VDO served more than %d distinct buffers", MAX_BUFFERS);
  }
  int fd = buf_fd;
  int64_t offset = vdo_buffer_get_offset(buf);
  if (vmem) {  // camera memory: Larod wants a dma-buf
    fd = larodConvertVmemFdToDmabuf(buf_fd, offset, &error);
    if (fd == LAROD_INVALID_FD) {
      die("larodConvertVmemFdToDmabuf: %s", error->msg);
    }
    offset = 0;
  }
  larodTensor** t = larodCreateTensors(1, &error);
  if (!t || !larodSetTensorDataType(t[0], LAROD_TENSOR_DATA_TYPE_UINT8, &error) ||
      !larodSetTensorLayout(t[0], LAROD_TENSOR_LAYOUT_420SP, &error) ||
      !larodBuildTensorDims(t[0], LAROD_TENSOR_LAYOUT_420SP, p->in_width, p->in_height, 3, &error) ||
      !larodBuildTensorPitches(t[0], LAROD_TENSOR_LAYOUT_420SP, p->in_pitch, p->in_height, 3, &error) ||
      !larodSetTensorFd(t[0], fd, &error) || !larodSetTensorFdOffset(t[0], offset, &error) ||
      !larodSetTensorFdSize(t[0], vdo_buffer_get_capacity(buf), &error) ||
      !larodSetTensorFdProps(t[0], LAROD_FD_PROP_MAP | LAROD_FD_PROP_DMABUF, &error) ||
      !larodTrackTensor(p->conn, t[0], &error)) {
    die("input tensor for VDO buffer fd %d: %s", buf_fd, error->msg);
  }
  p->tracked_fds[p->num_tracked] = buf_fd;
  p->tracked[p->num_tracked++] = t;
  return t;
}

static void run_jobs(pipeline_t* p, larodTensor** input) {
  larodError* error = NULL;
  if (!p->pp_req) {
    p->pp_req = larodCreateJobRequest(p->pp_model, input, 1, p->pp_outputs, 1, p->crop, &error);
    p->inf_req = p->pp_req ? larodCreateJobRequest(p->model, p->pp_outputs, 1, p->outputs, p->num_outputs,
                                                   NULL, &error)
                           : NULL;
    if (!p->inf_req) {
      die("job requests: %s", error->msg);
    }
  } else if (!larodSetJobRequestInputs(p->pp_req, input, 1, &error)) {
    die("job input: %s", error->msg);
  }
  if (!larodRunJob(p->conn, p->pp_req, &error)) {
    die("preprocessing job: %s", error->msg);
  }
  if (!larodRunJob(p->conn, p->inf_req, &error)) {
    die("inference job: %s", error->msg);
  }
}

// One JSON line: boxes normalized to the detector's input, [xmin, ymin, xmax, ymax].
static void print_detections(const pipeline_t* p, const labels_t* labels, unsigned frame, guint sequence,
                             float min_score) {
  const float* boxes = p->output_maps[0].data;  // ymin, xmin, ymax, xmax
  const float* classes = p->output_maps[1].data;
  const float* scores = p->output_maps[2].data;
  const float count = *(const float*)p->output_maps[3].data;
  const size_t capacity = p->output_maps[2].size / sizeof(float);
  const size_t n = count < 0.0f ? 0 : ((size_t)count < capacity ? (size_t)count : capacity);
  printf("{\"frame\":%u,\"sequence\":%u,\"detections\":[", frame, sequence);
  const char* sep = "";
  for (size_t i = 0; i < n; i++) {
    if (scores[i] < min_score) {
      continue;
    }
    const int class_id = (int)classes[i];
    printf("%s{\"class\":%d,", sep, class_id);
    if (class_id >= 0 && (size_t)class_id < labels->count) {
      printf("\"label\":\"%s\",", labels->names[class_id]);
    }
    printf("\"score\":%.4f,\"box\":[%.4f,%.4f,%.4f,%.4f]}", (double)scores[i], (double)boxes[4 * i + 1],
           (double)boxes[4 * i], (double)boxes[4 * i + 3], (double)boxes[4 * i + 2]);
    sep = ",";
  }
  printf("]}\n");
  fflush(stdout);
}

static VdoStream* start_stream(pipeline_t* p, gboolean* vmem) {
  g_autoptr(GError) error = NULL;
  g_autoptr(VdoMap) settings = vdo_map_new();
  vdo_map_set_uint32(settings, "channel", 1);
  vdo_map_set_uint32(settings, "format", VDO_FORMAT_YUV);
  vdo_map_set_uint32(settings, "buffer.count", 2);
  VdoStream* stream = vdo_stream_new(settings, NULL, &error);
  if (!stream) {
    die("vdo_stream_new: %s", error->message);
  }
  g_autoptr(VdoMap) info = vdo_stream_get_info(stream, &error);
  if (!info) {
    die("vdo_stream_get_info: %s", error->message);
  }
  p->in_width = vdo_map_get_uint32(info, "width", 0);
  p->in_height = vdo_map_get_uint32(info, "height", 0);
  p->in_pitch = vdo_map_get_uint32(info, "pitch", p->in_width);
  *vmem = g_strcmp0(vdo_map_get_string(info, "buffer.type", NULL, "memfd"), "vmem") == 0;
  if (!vdo_stream_start(stream, &error)) {
    die("vdo_stream_start: %s", error->message);
  }
  return stream;
}

static void destroy_pipeline(pipeline_t* p) {
  larodError* error = NULL;
  larodDestroyJobRequest(&p->pp_req);
  larodDestroyJobRequest(&p->inf_req);
  larodDestroyMap(&p->crop);
  for (size_t i = 0; i < p->num_tracked; i++) {
    larodDestroyTensors(p->conn, &p->tracked[i], 1, &error);
  }
  for (size_t i = 0; i < NUM_DETECTION_OUTPUTS; i++) {
    if (p->output_maps[i].data) {
      munmap(p->output_maps[i].data, p->output_maps[i].size);
    }
  }
  if (p->rgb.data) {
    munmap(p->rgb.data, p->rgb.size);
  }
  larodDestroyTensors(p->conn, &p->outputs, p->num_outputs, &error);
  larodDestroyTensors(p->conn, &p->pp_outputs, p->num_pp_outputs, &error);
  larodDestroyModel(&p->pp_model);
  larodDestroyModel(&p->model);
  larodDisconnect(&p->conn, NULL);
}

int main(int argc, char** argv) {
  const options_t opt = parse_options(argc, argv);
  labels_t labels = read_labels(opt.labels_path);
  pipeline_t p;
  memset(&p, 0, sizeof(p));
  larodError* error = NULL;
  if (!larodConnect(&p.conn, &error)) {
    die("larodConnect: %s", error->msg);
  }
  load_detector(&p, &opt);
  gboolean vmem = FALSE;
  g_autoptr(VdoStream) stream = start_stream(&p, &vmem);
  load_preprocessing(&p);
  fprintf(stderr, "vdo_detect: %ux%u NV12 -> cpu-proc -> %ux%u RGB -> %s\n", p.in_width, p.in_height, p.width,
          p.height, opt.device);

  g_autoptr(GError) vdo_error = NULL;
  struct pollfd pfd = {vdo_stream_get_fd(stream, &vdo_error), POLLIN, 0};
  if (pfd.fd < 0) {
    die("vdo_stream_get_fd: %s", vdo_error->message);
  }
  unsigned frame = 0;
  while (opt.frames == 0 || frame < opt.frames) {
    if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
      die("poll: %s", strerror(errno));
    }
    VdoBuffer* buf = vdo_stream_get_buffer(stream, &vdo_error);
    if (!buf) {
      if (g_error_matches(vdo_error, VDO_ERROR, VDO_ERROR_NO_DATA)) {
        g_clear_error(&vdo_error);
        continue;
      }
      if (vdo_error_is_expected(&vdo_error)) {  // e.g. the end of the video
        fprintf(stderr, "vdo_detect: stream ended: %s\n", vdo_error->message);
        break;
      }
      die("vdo_stream_get_buffer: %s", vdo_error->message);
    }
    const guint sequence = vdo_frame_get_sequence_nbr(vdo_buffer_get_frame(buf));
    run_jobs(&p, tensor_for_buffer(&p, buf, vmem));
    if (!vdo_stream_buffer_unref(stream, &buf, &vdo_error)) {
      die("vdo_stream_buffer_unref: %s", vdo_error->message);
    }
    if (opt.dump_dir) {
      char path[4096];
      snprintf(path, sizeof(path), "%s/frame%u.png", opt.dump_dir, frame);
      if (!png_dump_rgb(path, p.rgb.data, p.width, p.height, p.pitch)) {
        die("%s: %s", path, strerror(errno));
      }
    }
    print_detections(&p, &labels, frame, sequence, opt.min_score);
    frame++;
  }
  vdo_stream_stop(stream);
  destroy_pipeline(&p);
  g_strfreev(labels.names);
  g_free(labels.text);
  fprintf(stderr, "vdo_detect: %u frames\n", frame);
  return EXIT_SUCCESS;
}
