#include "media/video_reader.h"

#include "media/av_factories.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

namespace osprey::media {
namespace {

std::string av_message(int code) {
  // Demuxers and decoders return -1, AVERROR(EPERM), for "this data is bad";
  // "Operation not permitted" would send the user after file permissions.
  if (code == AVERROR(EPERM)) return "malformed data";
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

// Copies or converts a decoded frame into tightly packed I420.
bool to_i420(const AVFrame* frame, I420Image& out, std::string& error) {
  if (frame->width <= 0 || frame->height <= 0) {
    error = "decoded frame has no size";
    return false;
  }
  out.width = frame->width;
  out.height = frame->height;
  const int cw = (frame->width + 1) / 2, ch = (frame->height + 1) / 2;
  out.y.resize(size_t(frame->width) * frame->height);
  out.u.resize(size_t(cw) * ch);
  out.v.resize(size_t(cw) * ch);
  uint8_t* dst[4] = {out.y.data(), out.u.data(), out.v.data(), nullptr};
  int dst_stride[4] = {frame->width, cw, cw, 0};
  if (frame->format == AV_PIX_FMT_YUV420P) {
    av_image_copy(dst, dst_stride, const_cast<const uint8_t**>(frame->data), frame->linesize,
                  AV_PIX_FMT_YUV420P, frame->width, frame->height);
    return true;
  }
  // Other layouts (full-range JPEG YUV, RGB images, 4:2:2 cameras) go through
  // swscale once, at the source's own size; scaling is libyuv's job later.
  SwsContext* sws =
      sws_getContext(frame->width, frame->height, AVPixelFormat(frame->format), frame->width, frame->height,
                     AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr);
  if (!sws) {
    error = std::string("cannot convert pixel format ") +
            (av_get_pix_fmt_name(AVPixelFormat(frame->format)) ?: "unknown") + " to yuv420p";
    return false;
  }
  sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst, dst_stride);
  sws_freeContext(sws);
  return true;
}

// One libavformat input with its video decoder.
class AvInput {
 public:
  ~AvInput() {
    av_frame_free(&frame_);
    av_packet_free(&packet_);
    avcodec_free_context(&codec_);
    avformat_close_input(&format_);
  }

  // kStill: an image file, where any damage the decoder finds is an error
  // (a truncated JPEG otherwise decodes to a picture grey below the cut);
  // a video conceals damage in a frame and goes on, as players do.
  enum class Damage { kConceal, kStill };

  ReadError open(const std::string& path, const AVInputFormat* input_format, std::string& error,
                 Damage damage = Damage::kConceal) {
    int rc = avformat_open_input(&format_, path.c_str(), input_format, nullptr);
    if (rc < 0) {
      error = "cannot open " + path + ": " + av_message(rc);
      return rc == AVERROR(ENOENT) ? ReadError::kNotFound : ReadError::kBadInput;
    }
    if ((rc = avformat_find_stream_info(format_, nullptr)) < 0) {
      error = path + ": not a readable video (" + av_message(rc) + ")";
      return ReadError::kBadInput;
    }
    const AVCodec* decoder = nullptr;
    stream_ = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (stream_ == AVERROR_DECODER_NOT_FOUND) {
      const int any = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
      const AVCodecParameters* params = any >= 0 ? format_->streams[any]->codecpar : nullptr;
      std::string name = avcodec_get_name(params ? params->codec_id : AV_CODEC_ID_NONE);
      if (params && params->codec_id == AV_CODEC_ID_NONE && params->codec_tag) {
        char tag[AV_FOURCC_MAX_STRING_SIZE] = {};
        name = std::string("FourCC ") + av_fourcc_make_string(tag, params->codec_tag);
      }
      error = path + ": unsupported video codec '" + name + "' (no decoder in this libavcodec)";
      return ReadError::kBadInput;
    }
    if (stream_ < 0 || !decoder) {
      error = path + ": has no video stream";
      return ReadError::kBadInput;
    }
    codec_ = avcodec_alloc_context3(decoder);
    frame_ = av_frame_alloc();
    packet_ = av_packet_alloc();
    if (!codec_ || !frame_ || !packet_) {
      error = "out of memory opening " + path;
      return ReadError::kBadInput;
    }
    if (damage == Damage::kStill) codec_->err_recognition |= AV_EF_EXPLODE;
    if (avcodec_parameters_to_context(codec_, format_->streams[stream_]->codecpar) < 0 ||
        (rc = avcodec_open2(codec_, decoder, nullptr)) < 0) {
      error = path + ": cannot open its " + decoder->name + " decoder";
      return ReadError::kBadInput;
    }
    const AVStream* stream = format_->streams[stream_];
    if (stream->avg_frame_rate.num > 0 && stream->avg_frame_rate.den > 0)
      framerate_ = av_q2d(stream->avg_frame_rate);
    time_base_ = av_q2d(stream->time_base);
    declared_frames_ = stream->nb_frames;
    return ReadError::kNone;
  }

  // The next decoded frame and its time in milliseconds since the first;
  // kEnd when the input is exhausted.
  ReadError next(I420Image& image, double& timestamp_ms, std::string& error) {
    for (;;) {
      int rc = avcodec_receive_frame(codec_, frame_);
      if (rc == 0) {
        timestamp_ms = timestamp_of(frame_->best_effort_timestamp);
        ++decoded_;
        const bool ok = to_i420(frame_, image, error);
        av_frame_unref(frame_);
        return ok ? ReadError::kNone : ReadError::kBadInput;
      }
      if (rc == AVERROR_EOF) return at_end(error);
      if (rc != AVERROR(EAGAIN)) {
        error = "decoding failed: " + av_message(rc);
        return ReadError::kBadInput;
      }
      if (flushed_) return at_end(error);
      rc = av_read_frame(format_, packet_);
      if (rc == AVERROR_EOF) {
        flushed_ = true;
        avcodec_send_packet(codec_, nullptr);
        continue;
      }
      if (rc < 0) {
        error = "reading failed: " + av_message(rc);
        return ReadError::kBadInput;
      }
      if (packet_->stream_index == stream_) {
        rc = avcodec_send_packet(codec_, packet_);
        ++packets_;
      }
      av_packet_unref(packet_);
      if (rc < 0 && rc != AVERROR(EAGAIN)) {
        error = std::string("corrupt data: its ") + codec_->codec->name + " decoder refused packet " +
                std::to_string(packets_) + " (" + av_message(rc) + ")";
        return ReadError::kBadInput;
      }
    }
  }

  double framerate() const { return framerate_; }
  int64_t declared_frames() const { return declared_frames_; }

  // True when libavformat chose the container by a weak guess from the
  // bytes (a score at or below AVPROBE_SCORE_RETRY, where ffmpeg itself warns
  // "misdetection possible"): random bytes pass for raw H.263 about once in
  // a thousand files and decode to a frame of noise.
  bool guessed_weakly() const { return format_->probe_score <= AVPROBE_SCORE_RETRY; }
  const char* format_name() const { return format_->iformat->name; }

 private:
  // Container time to milliseconds since the first frame; frame count over
  // the frame rate when the container has no timestamps.
  double timestamp_of(int64_t pts) {
    if (pts == AV_NOPTS_VALUE || time_base_ <= 0) return 1000.0 * double(decoded_) / framerate_;
    if (first_pts_ == AV_NOPTS_VALUE) first_pts_ = pts;
    return 1000.0 * double(pts - first_pts_) * time_base_;
  }

  // A file whose header promises more frames than it holds was cut short;
  // saying so beats silently ending early.
  ReadError at_end(std::string& error) const {
    if (declared_frames_ > 0 && decoded_ < declared_frames_) {
      error = "truncated or corrupt: decoded " + std::to_string(decoded_) + " of the " +
              std::to_string(declared_frames_) + " frames its header declares";
      return ReadError::kBadInput;
    }
    return ReadError::kEnd;
  }

  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVFrame* frame_ = nullptr;
  AVPacket* packet_ = nullptr;
  int stream_ = -1;
  bool flushed_ = false;
  double framerate_ = 30.0;
  double time_base_ = 0;
  int64_t first_pts_ = AV_NOPTS_VALUE;
  int64_t declared_frames_ = 0;
  int64_t decoded_ = 0;
  int64_t packets_ = 0;
};

// A video file or a camera: one input, reopened to rewind.
class VideoSource : public VideoReader {
 public:
  ReadError init(const std::string& path, const AVInputFormat* format, std::string& error) {
    path_ = path;
    format_ = format;
    const ReadError code = reopen(error);
    if (code != ReadError::kNone) return code;
    if (!format && input_->guessed_weakly()) {
      error = path + ": not a recognisable video (libavformat's best guess, '" + input_->format_name() +
              "', is too weak to trust)";
      return ReadError::kBadInput;
    }
    framerate_ = input_->framerate();
    frame_count_ = input_->declared_frames();
    const ReadError first = input_->next(first_.image, first_.timestamp_ms, error);
    if (first == ReadError::kEnd) {
      error = path + ": contains no video frames";
      return ReadError::kBadInput;
    }
    if (first != ReadError::kNone) {
      error = path + ": " + error;
      return first;
    }
    have_first_ = true;
    width_ = first_.image.width;
    height_ = first_.image.height;
    return ReadError::kNone;
  }

  ReadError next(VideoFrame& frame, std::string& error) override {
    if (have_first_) {
      std::swap(frame, first_);
      have_first_ = false;
      frame.index = next_index_++;
      return ReadError::kNone;
    }
    const ReadError code = input_->next(frame.image, frame.timestamp_ms, error);
    if (code == ReadError::kBadInput) error = path_ + ": " + error;
    if (code == ReadError::kNone) frame.index = next_index_++;
    return code;
  }

  bool rewind(std::string& error) override {
    if (format_) {
      error = path_ + ": a camera cannot rewind";
      return false;
    }
    return reopen(error) == ReadError::kNone;
  }

 private:
  ReadError reopen(std::string& error) {
    input_ = std::make_unique<AvInput>();
    next_index_ = 0;
    return input_->open(path_, format_, error);
  }

  const AVInputFormat* format_ = nullptr;
  std::unique_ptr<AvInput> input_;
  VideoFrame first_;
  bool have_first_ = false;
  int64_t next_index_ = 0;
};

// Every image file of a folder, in name order, one image per frame.
class FolderSource : public VideoReader {
 public:
  ReadError init(const std::string& path, std::string& error) {
    path_ = path;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
      std::string ext = entry.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
      if (entry.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" ||
                                      ext == ".ppm" || ext == ".pgm" || ext == ".tif" || ext == ".tiff"))
        files_.push_back(entry.path().string());
    }
    if (ec) {
      error = "cannot list " + path + ": " + ec.message();
      return ReadError::kNotFound;
    }
    if (files_.empty()) {
      error = path + ": no images (.jpg, .png, .bmp, .ppm, .pgm, .tif) in the folder";
      return ReadError::kBadInput;
    }
    std::sort(files_.begin(), files_.end());
    framerate_ = 1.0;  // one image a second: the timestamps count images
    frame_count_ = int64_t(files_.size());
    VideoFrame first;
    const ReadError code = next(first, error);
    if (code != ReadError::kNone) return code;
    width_ = first.image.width;
    height_ = first.image.height;
    next_ = 0;
    return ReadError::kNone;
  }

  ReadError next(VideoFrame& frame, std::string& error) override {
    if (next_ >= files_.size()) return ReadError::kEnd;
    const std::string& file = files_[next_];
    frame.index = int64_t(next_++);
    frame.timestamp_ms = 1000.0 * double(frame.index) / framerate_;
    AvInput input;
    ReadError code = input.open(file, nullptr, error, AvInput::Damage::kStill);
    double ignored = 0;
    if (code == ReadError::kNone) code = input.next(frame.image, ignored, error);
    if (code == ReadError::kEnd) error = file + ": no image decoded";
    if (code != ReadError::kNone) {
      if (error.rfind(file, 0) != 0) error = file + ": " + error;
      return ReadError::kBadInput;
    }
    return ReadError::kNone;
  }

  bool rewind(std::string&) override {
    next_ = 0;
    return true;
  }

 private:
  std::vector<std::string> files_;
  size_t next_ = 0;
};

}  // namespace

std::unique_ptr<VideoReader> open_av_reader(const std::string& path, ReadError& code, std::string& error) {
  av_log_set_level(AV_LOG_QUIET);  // errors reach the caller as messages instead
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    code = ReadError::kNotFound;
    error = "video source " + path + " does not exist";
    return nullptr;
  }
  if (std::filesystem::is_directory(path, ec)) {
    auto folder = std::make_unique<FolderSource>();
    code = folder->init(path, error);
    return code == ReadError::kNone ? std::move(folder) : nullptr;
  }
  const AVInputFormat* format = nullptr;
  // /dev/video* and any other character device (a symlink to a camera) are V4L2.
  if (path.rfind("/dev/video", 0) == 0 || std::filesystem::is_character_file(path, ec)) {
    avdevice_register_all();
    format = av_find_input_format("video4linux2");
    if (!format) {
      code = ReadError::kBadInput;
      error = "this libavdevice has no video4linux2 input for " + path;
      return nullptr;
    }
  }
  auto video = std::make_unique<VideoSource>();
  code = video->init(path, format, error);
  return code == ReadError::kNone ? std::move(video) : nullptr;
}

}  // namespace osprey::media
