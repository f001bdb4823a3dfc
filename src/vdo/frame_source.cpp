#include "vdo/frame_source.h"

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

namespace osprey::vdo {
namespace {

std::string av_message(int code) {
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

  SourceError open(const std::string& path, const AVInputFormat* input_format, std::string& error) {
    int rc = avformat_open_input(&format_, path.c_str(), input_format, nullptr);
    if (rc < 0) {
      error = "cannot open " + path + ": " + av_message(rc);
      return rc == AVERROR(ENOENT) ? SourceError::kNotFound : SourceError::kBadInput;
    }
    if ((rc = avformat_find_stream_info(format_, nullptr)) < 0) {
      error = path + ": not a readable video (" + av_message(rc) + ")";
      return SourceError::kBadInput;
    }
    const AVCodec* decoder = nullptr;
    stream_ = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (stream_ < 0 || !decoder) {
      error = path + ": has no decodable video stream";
      return SourceError::kBadInput;
    }
    codec_ = avcodec_alloc_context3(decoder);
    frame_ = av_frame_alloc();
    packet_ = av_packet_alloc();
    if (!codec_ || !frame_ || !packet_) {
      error = "out of memory opening " + path;
      return SourceError::kBadInput;
    }
    if (avcodec_parameters_to_context(codec_, format_->streams[stream_]->codecpar) < 0 ||
        (rc = avcodec_open2(codec_, decoder, nullptr)) < 0) {
      error = path + ": cannot open its " + decoder->name + " decoder";
      return SourceError::kBadInput;
    }
    const AVRational rate = format_->streams[stream_]->avg_frame_rate;
    if (rate.num > 0 && rate.den > 0) framerate_ = av_q2d(rate);
    return SourceError::kNone;
  }

  // The next decoded frame; kEnd when the input is exhausted.
  SourceError next(I420Image& image, std::string& error) {
    for (;;) {
      int rc = avcodec_receive_frame(codec_, frame_);
      if (rc == 0) {
        const bool ok = to_i420(frame_, image, error);
        av_frame_unref(frame_);
        return ok ? SourceError::kNone : SourceError::kBadInput;
      }
      if (rc == AVERROR_EOF) return SourceError::kEnd;
      if (rc != AVERROR(EAGAIN)) {
        error = "decoding failed: " + av_message(rc);
        return SourceError::kBadInput;
      }
      if (flushed_) return SourceError::kEnd;
      rc = av_read_frame(format_, packet_);
      if (rc == AVERROR_EOF) {
        flushed_ = true;
        avcodec_send_packet(codec_, nullptr);
        continue;
      }
      if (rc < 0) {
        error = "reading failed: " + av_message(rc);
        return SourceError::kBadInput;
      }
      if (packet_->stream_index == stream_) rc = avcodec_send_packet(codec_, packet_);
      av_packet_unref(packet_);
      if (rc < 0 && rc != AVERROR(EAGAIN)) {
        error = "corrupt video data: " + av_message(rc);
        return SourceError::kBadInput;
      }
    }
  }

  double framerate() const { return framerate_; }

 private:
  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVFrame* frame_ = nullptr;
  AVPacket* packet_ = nullptr;
  int stream_ = -1;
  bool flushed_ = false;
  double framerate_ = 30.0;
};

// A video file or a camera: one input, reopened to rewind.
class VideoSource : public FrameSource {
 public:
  SourceError init(const std::string& path, const AVInputFormat* format, std::string& error) {
    path_ = path;
    format_ = format;
    const SourceError code = reopen(error);
    if (code != SourceError::kNone) return code;
    framerate_ = input_->framerate();
    const SourceError first = input_->next(first_, error);
    if (first == SourceError::kEnd) {
      error = path + ": contains no video frames";
      return SourceError::kBadInput;
    }
    if (first != SourceError::kNone) {
      error = path + ": " + error;
      return first;
    }
    have_first_ = true;
    width_ = first_.width;
    height_ = first_.height;
    return SourceError::kNone;
  }

  SourceError next(I420Image& image, std::string& error) override {
    if (have_first_) {
      std::swap(image, first_);
      have_first_ = false;
      return SourceError::kNone;
    }
    const SourceError code = input_->next(image, error);
    if (code == SourceError::kBadInput) error = path_ + ": " + error;
    return code;
  }

  bool rewind(std::string& error) override {
    if (format_) {
      error = path_ + ": a camera cannot rewind";
      return false;
    }
    return reopen(error) == SourceError::kNone;
  }

 private:
  SourceError reopen(std::string& error) {
    input_ = std::make_unique<AvInput>();
    return input_->open(path_, format_, error);
  }

  const AVInputFormat* format_ = nullptr;
  std::unique_ptr<AvInput> input_;
  I420Image first_;
  bool have_first_ = false;
};

// Every image file of a folder, in name order, one image per frame.
class FolderSource : public FrameSource {
 public:
  SourceError init(const std::string& path, std::string& error) {
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
      return SourceError::kNotFound;
    }
    if (files_.empty()) {
      error = path + ": no images (.jpg, .png, .bmp, .ppm, .pgm, .tif) in the folder";
      return SourceError::kBadInput;
    }
    std::sort(files_.begin(), files_.end());
    I420Image first;
    const SourceError code = next(first, error);
    if (code != SourceError::kNone) return code;
    width_ = first.width;
    height_ = first.height;
    framerate_ = 1.0;
    next_ = 0;
    return SourceError::kNone;
  }

  SourceError next(I420Image& image, std::string& error) override {
    if (next_ >= files_.size()) return SourceError::kEnd;
    const std::string& file = files_[next_++];
    AvInput input;
    SourceError code = input.open(file, nullptr, error);
    if (code == SourceError::kNone) code = input.next(image, error);
    if (code == SourceError::kEnd) error = file + ": no image decoded";
    if (code != SourceError::kNone) {
      if (error.rfind(file, 0) != 0) error = file + ": " + error;
      return SourceError::kBadInput;
    }
    return SourceError::kNone;
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

std::unique_ptr<FrameSource> FrameSource::open(const std::string& path, SourceError& code,
                                               std::string& error) {
  av_log_set_level(AV_LOG_QUIET);  // errors reach the app as GErrors instead
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    code = SourceError::kNotFound;
    error = "video source " + path + " does not exist";
    return nullptr;
  }
  if (std::filesystem::is_directory(path, ec)) {
    auto folder = std::make_unique<FolderSource>();
    code = folder->init(path, error);
    return code == SourceError::kNone ? std::move(folder) : nullptr;
  }
  const AVInputFormat* format = nullptr;
  if (path.rfind("/dev/video", 0) == 0) {
    avdevice_register_all();
    format = av_find_input_format("video4linux2");
    if (!format) {
      code = SourceError::kBadInput;
      error = "this libavdevice has no video4linux2 input for " + path;
      return nullptr;
    }
  }
  auto video = std::make_unique<VideoSource>();
  code = video->init(path, format, error);
  return code == SourceError::kNone ? std::move(video) : nullptr;
}

}  // namespace osprey::vdo
