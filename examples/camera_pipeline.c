/*
 * camera_pipeline: a camera-style Larod application, written only against
 * larod.h. It decodes a video file (standing in for the camera's NV12
 * stream), lets cpu-proc crop and scale each NV12 frame to the detector's
 * input, runs the detector on cpu-tflite and prints per-frame detection
 * counts and the sustained frame rate.
 *
 *   camera_pipeline [-m MODEL] [-n FRAMES] [-q] VIDEO
 *   camera_pipeline [-m MODEL] --synthetic FRAMES      (generated frames, no video)
 *
 * MODEL defaults to face_detection_short_range.tflite (128x128 RGB, float32
 * in [-1, 1]); a uint8 model gets cpu-proc's output directly (zero copies).
 * The detector's score output (the one whose last dimension is 1) is decoded
 * simply: anchors with sigmoid(score) > 0.5 count as detections.
 * Build: cc camera_pipeline.c -llarod $(pkg-config --libs libavformat libavcodec libavutil libswscale)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "larod.h"

#define MAX_TENSORS 8

static void die(const char* what, larodError* error) {
  fprintf(stderr, "camera_pipeline: %s%s%s\n", what, error ? ": " : "",
          error && error->msg ? error->msg : "");
  exit(1);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void* map_tensor(larodTensor* t, size_t* size) {
  larodError* e = NULL;
  if (!larodGetTensorFdSize(t, size, &e)) die("tensor size", e);
  void* p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, larodGetTensorFd(t, NULL), 0);
  if (p == MAP_FAILED) die("mmap of a tensor", NULL);
  return p;
}

/* The video source: libav decoding to NV12, or generated frames. */
typedef struct {
  AVFormatContext* fmt;
  AVCodecContext* dec;
  struct SwsContext* sws;
  AVPacket* pkt;
  AVFrame* frame;
  int stream;
  int width, height; /* even */
  int synthetic;     /* frames left to generate, when synthetic */
  int index;
} Source;

static void open_video(Source* s, const char* path) {
  memset(s, 0, sizeof(*s));
  if (avformat_open_input(&s->fmt, path, NULL, NULL) < 0) die("cannot open the video", NULL);
  if (avformat_find_stream_info(s->fmt, NULL) < 0) die("cannot read the video's streams", NULL);
  const AVCodec* codec = NULL;
  s->stream = av_find_best_stream(s->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (s->stream < 0 || !codec) die("no decodable video stream", NULL);
  s->dec = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(s->dec, s->fmt->streams[s->stream]->codecpar);
  if (avcodec_open2(s->dec, codec, NULL) < 0) die("cannot open the decoder", NULL);
  s->width = s->dec->width & ~1;
  s->height = s->dec->height & ~1;
  s->pkt = av_packet_alloc();
  s->frame = av_frame_alloc();
}

/* Writes the next frame as NV12 (row pitch = width) into `nv12`; 0 at the end. */
static int next_frame(Source* s, uint8_t* nv12) {
  const int w = s->width, h = s->height;
  if (!s->fmt) {
    if (s->synthetic-- <= 0) return 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) nv12[y * w + x] = (uint8_t)((x + y + 4 * s->index) & 255);
    memset(nv12 + w * h, 128, (size_t)(w * h / 2));
    s->index++;
    return 1;
  }
  for (;;) {
    int rc = avcodec_receive_frame(s->dec, s->frame);
    if (rc == 0) break;
    if (rc == AVERROR_EOF) return 0;
    if (rc != AVERROR(EAGAIN)) die("decoding failed", NULL);
    rc = av_read_frame(s->fmt, s->pkt);
    if (rc < 0) {
      avcodec_send_packet(s->dec, NULL); /* drain */
      continue;
    }
    if (s->pkt->stream_index == s->stream) avcodec_send_packet(s->dec, s->pkt);
    av_packet_unref(s->pkt);
  }
  s->sws =
      sws_getCachedContext(s->sws, s->frame->width, s->frame->height, (enum AVPixelFormat)s->frame->format, w,
                           h, AV_PIX_FMT_NV12, SWS_POINT, NULL, NULL, NULL);
  if (!s->sws) die("no conversion to NV12", NULL);
  uint8_t* dst[4] = {nv12, nv12 + w * h, NULL, NULL};
  int dst_stride[4] = {w, w, 0, 0};
  sws_scale(s->sws, (const uint8_t* const*)s->frame->data, s->frame->linesize, 0, s->frame->height, dst,
            dst_stride);
  av_frame_unref(s->frame);
  s->index++;
  return 1;
}

static void close_source(Source* s) {
  if (!s->fmt) return;
  sws_freeContext(s->sws);
  av_frame_free(&s->frame);
  av_packet_free(&s->pkt);
  avcodec_free_context(&s->dec);
  avformat_close_input(&s->fmt);
}

int main(int argc, char** argv) {
  const char* model_path = NULL;
  const char* video = NULL;
  long max_frames = -1;
  int synthetic = 0, quiet = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "-m") && i + 1 < argc) {
      model_path = argv[++i];
    } else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
      max_frames = strtol(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--synthetic") && i + 1 < argc) {
      synthetic = (int)strtol(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "-q")) {
      quiet = 1;
    } else if (argv[i][0] != '-' && !video) {
      video = argv[i];
    } else {
      fprintf(stderr, "usage: camera_pipeline [-m MODEL] [-n FRAMES] [-q] VIDEO | --synthetic FRAMES\n");
      return 2;
    }
  }
  if (!video && synthetic <= 0) die("give a video file or --synthetic FRAMES", NULL);
  char default_model[4096];
  if (!model_path) {
    const char* cache = getenv("OSPREY_CACHE");
    const char* home = getenv("HOME");
    if (cache && *cache) {
      snprintf(default_model, sizeof(default_model), "%s/models/face_detection_short_range.tflite", cache);
    } else {
      snprintf(default_model, sizeof(default_model),
               "%s/.cache/osprey/models/face_detection_short_range.tflite", home ? home : "");
    }
    model_path = default_model;
  }

  Source src;
  if (video) {
    open_video(&src, video);
  } else {
    memset(&src, 0, sizeof(src));
    src.width = 640;
    src.height = 480;
    src.synthetic = synthetic;
  }

  larodError* e = NULL;
  larodConnection* conn = NULL;
  if (!larodConnect(&conn, &e)) die("connecting to the ML service", e);
  const larodDevice* tflite = larodGetDevice(conn, "cpu-tflite", 0, &e);
  const larodDevice* proc = larodGetDevice(conn, "cpu-proc", 0, &e);
  if (!tflite || !proc) die("finding the devices", e);

  /* The detector. */
  int fd = open(model_path, O_RDONLY);
  if (fd < 0) die("cannot open the model (set -m or OSPREY_CACHE)", NULL);
  larodModel* det = larodLoadModel(conn, fd, tflite, LAROD_ACCESS_PRIVATE, "detector", NULL, &e);
  close(fd);
  if (!det) die("loading the detector", e);
  size_t n_in = 0, n_out = 0;
  larodTensor** det_in = larodAllocModelInputs(conn, det, LAROD_FD_PROP_MAP, &n_in, NULL, &e);
  larodTensor** det_out = larodAllocModelOutputs(conn, det, LAROD_FD_PROP_MAP, &n_out, NULL, &e);
  if (!det_in || !det_out || n_in != 1 || n_out > MAX_TENSORS) die("the detector needs one image input", e);
  const larodTensorDims* dims = larodGetTensorDims(det_in[0], &e);
  const larodTensorDataType in_type = larodGetTensorDataType(det_in[0], &e);
  if (dims->len != 4 || dims->dims[3] != 3 ||
      (in_type != LAROD_TENSOR_DATA_TYPE_FLOAT32 && in_type != LAROD_TENSOR_DATA_TYPE_UINT8)) {
    die("the detector's input must be [1, H, W, 3] float32 or uint8", NULL);
  }
  const int in_h = (int)dims->dims[1], in_w = (int)dims->dims[2];

  /* The preprocessing "model": NV12 frame -> RGB at the detector's size. */
  larodMap* pp_params = larodCreateMap(&e);
  larodMapSetStr(pp_params, "image.input.format", "nv12", &e);
  larodMapSetIntArr2(pp_params, "image.input.size", src.width, src.height, &e);
  larodMapSetStr(pp_params, "image.output.format", "rgb-interleaved", &e);
  larodMapSetIntArr2(pp_params, "image.output.size", in_w, in_h, &e);
  larodModel* pp = larodLoadModel(conn, -1, proc, LAROD_ACCESS_PRIVATE, "preprocess", pp_params, &e);
  if (!pp) die("loading the preprocessing model", e);
  size_t n;
  larodTensor** pp_in = larodAllocModelInputs(conn, pp, LAROD_FD_PROP_MAP, &n, NULL, &e);
  larodTensor** pp_out = NULL;
  if (in_type == LAROD_TENSOR_DATA_TYPE_UINT8) {
    /* Zero copies: cpu-proc writes straight into the detector's input. */
    pp_out = larodCreateModelOutputs(pp, &n, &e);
    if (pp_out) larodSetTensorFd(pp_out[0], larodGetTensorFd(det_in[0], NULL), &e);
  } else {
    pp_out = larodAllocModelOutputs(conn, pp, LAROD_FD_PROP_MAP, &n, NULL, &e);
  }
  if (!pp_in || !pp_out) die("allocating preprocessing tensors", e);

  /* Crop the centre square of the frame, as a camera app keeps the aspect ratio. */
  const int side = (src.width < src.height ? src.width : src.height) & ~1;
  larodMap* crop = larodCreateMap(&e);
  larodMapSetIntArr4(crop, "image.input.crop", ((src.width - side) / 2) & ~1, ((src.height - side) / 2) & ~1,
                     side, side, &e);
  larodJobRequest* pp_req = larodCreateJobRequest(pp, pp_in, 1, pp_out, 1, crop, &e);
  larodJobRequest* det_req = larodCreateJobRequest(det, det_in, 1, det_out, n_out, NULL, &e);
  if (!pp_req || !det_req) die("creating job requests", e);

  size_t nv12_size, rgb_size = 0, det_in_size;
  uint8_t* nv12 = map_tensor(pp_in[0], &nv12_size);
  float* det_input = map_tensor(det_in[0], &det_in_size);
  uint8_t* rgb = in_type == LAROD_TENSOR_DATA_TYPE_FLOAT32 ? map_tensor(pp_out[0], &rgb_size) : NULL;
  void* outs[MAX_TENSORS];
  size_t out_sizes[MAX_TENSORS];
  int score_output = -1;
  size_t anchors = 0;
  for (size_t i = 0; i < n_out; ++i) {
    outs[i] = map_tensor(det_out[i], &out_sizes[i]);
    const larodTensorDims* d = larodGetTensorDims(det_out[i], NULL);
    if (score_output < 0 && d->len >= 2 && d->dims[d->len - 1] == 1 &&
        larodGetTensorDataType(det_out[i], NULL) == LAROD_TENSOR_DATA_TYPE_FLOAT32) {
      score_output = (int)i;
      anchors = d->dims[d->len - 2];
    }
  }
  if (score_output < 0) die("the detector has no [.., anchors, 1] float score output", NULL);

  printf("video %dx%d NV12 -> cpu-proc crop %dx%d, scale to %dx%d -> cpu-tflite %s (%zu anchors)\n",
         src.width, src.height, side, side, in_w, in_h, model_path, anchors);
  const double start = now_s();
  long frames = 0, total_detections = 0;
  while ((max_frames < 0 || frames < max_frames) && next_frame(&src, nv12)) {
    if (!larodRunJob(conn, pp_req, &e)) die("preprocessing", e);
    if (rgb) {
      const size_t count = (size_t)in_w * (size_t)in_h * 3;
      for (size_t i = 0; i < count; ++i) det_input[i] = (float)rgb[i] / 127.5f - 1.0f;
    }
    if (!larodRunJob(conn, det_req, &e)) die("running the detector", e);
    const float* scores = outs[score_output];
    int count = 0;
    float top = 0.0f;
    for (size_t a = 0; a < anchors; ++a) {
      float s = scores[a];
      s = s < -80.0f ? -80.0f : (s > 80.0f ? 80.0f : s);
      const float p = 1.0f / (1.0f + expf(-s));
      if (p > 0.5f) count++;
      if (p > top) top = p;
    }
    total_detections += count;
    frames++;
    if (!quiet) printf("frame %4ld: %3d detections, top score %.3f\n", frames, count, (double)top);
  }
  const double seconds = now_s() - start;
  printf("%ld frames in %.2f s: %.1f fps sustained (preprocess + detect through ospreyd), %ld detections\n",
         frames, seconds, seconds > 0 ? (double)frames / seconds : 0.0, total_detections);

  munmap(nv12, nv12_size);
  munmap(det_input, det_in_size);
  if (rgb) munmap(rgb, rgb_size);
  for (size_t i = 0; i < n_out; ++i) munmap(outs[i], out_sizes[i]);
  larodDestroyJobRequest(&pp_req);
  larodDestroyJobRequest(&det_req);
  larodDestroyMap(&crop);
  larodDestroyMap(&pp_params);
  larodDestroyTensors(conn, &pp_in, 1, NULL);
  larodDestroyTensors(conn, &pp_out, 1, NULL);
  larodDestroyTensors(conn, &det_in, n_in, NULL);
  larodDestroyTensors(conn, &det_out, n_out, NULL);
  larodDestroyModel(&pp);
  larodDestroyModel(&det);
  larodDisconnect(&conn, NULL);
  close_source(&src);
  return frames > 0 ? 0 : 1;
}
