#include "media/video_writer.h"

#include "media/av_factories.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

namespace osprey::media {
namespace {

std::string av_message(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

const AVCodec* find_h264_encoder() {
  // Debian's libavcodec links both; x264 compresses better at the same speed.
  for (const char* name : {"libx264", "libopenh264"})
    if (const AVCodec* codec = avcodec_find_encoder_by_name(name)) return codec;
  return nullptr;
}

// yuv420p where the encoder takes it (players expect it), else its first format.
AVPixelFormat pick_pixel_format(const AVCodec* codec) {
  if (!codec->pix_fmts) return AV_PIX_FMT_YUV420P;
  for (const AVPixelFormat* f = codec->pix_fmts; *f != AV_PIX_FMT_NONE; ++f)
    if (*f == AV_PIX_FMT_YUV420P) return *f;
  for (const AVPixelFormat* f = codec->pix_fmts; *f != AV_PIX_FMT_NONE; ++f)
    if (*f == AV_PIX_FMT_YUVJ420P) return *f;
  return codec->pix_fmts[0];
}

class AvVideoWriter : public VideoWriter {
 public:
  ~AvVideoWriter() override {
    std::string ignored;
    if (header_written_ && !closed_) close(ignored);
    sws_freeContext(sws_);
    av_frame_free(&frame_);
    av_packet_free(&packet_);
    avcodec_free_context(&codec_);
    if (format_ && !(format_->oformat->flags & AVFMT_NOFILE)) avio_closep(&format_->pb);
    avformat_free_context(format_);
  }

  bool open(const std::string& path, int width, int height, double fps, std::string& error) {
    path_ = path;
    const std::string ext = lower_extension(path);
    const AVCodec* encoder = nullptr;
    if (ext == ".mp4" || ext == ".mov" || ext == ".mkv") encoder = find_h264_encoder();
    if (!encoder && (ext == ".avi" || ext == ".mkv")) encoder = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!encoder) {
      error = ext == ".mp4" || ext == ".mov"
                  ? path + ": this libavcodec has no H.264 encoder (write .avi or .mkv for MJPEG)"
                  : path + ": unsupported video extension '" + ext + "' (use " + kVideoOutputExtensions + ")";
      return false;
    }
    if (width < 2 || height < 2 || !(fps > 0)) {
      error = path + ": cannot encode " + std::to_string(width) + "x" + std::to_string(height) + " frames";
      return false;
    }
    width_ = width & ~1;
    height_ = height & ~1;
    int rc = avformat_alloc_output_context2(&format_, nullptr, nullptr, path.c_str());
    if (rc < 0 || !format_) {
      error = path + ": no container for this extension (" + av_message(rc) + ")";
      return false;
    }
    AVStream* stream = avformat_new_stream(format_, nullptr);
    codec_ = avcodec_alloc_context3(encoder);
    frame_ = av_frame_alloc();
    packet_ = av_packet_alloc();
    if (!stream || !codec_ || !frame_ || !packet_) {
      error = "out of memory opening " + path;
      return false;
    }
    const AVRational rate = av_d2q(fps, 100000);
    codec_->width = width_;
    codec_->height = height_;
    codec_->pix_fmt = pick_pixel_format(encoder);
    codec_->time_base = av_inv_q(rate);
    codec_->framerate = rate;
    codec_->gop_size = 2 * std::max(1, int(fps + 0.5));
    if (encoder->id == AV_CODEC_ID_MJPEG) {
      codec_->color_range = AVCOL_RANGE_JPEG;
      codec_->qmin = codec_->qmax = 3;  // fixed quality: annotations stay crisp
    } else {
      av_opt_set(codec_->priv_data, "preset", "veryfast", 0);
    }
    if (format_->oformat->flags & AVFMT_GLOBALHEADER) codec_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((rc = avcodec_open2(codec_, encoder, nullptr)) < 0) {
      error = path + ": cannot open the " + encoder->name + " encoder (" + av_message(rc) + ")";
      return false;
    }
    avcodec_parameters_from_context(stream->codecpar, codec_);
    stream->time_base = codec_->time_base;
    stream_ = stream;
    if (!(format_->oformat->flags & AVFMT_NOFILE) &&
        (rc = avio_open(&format_->pb, path.c_str(), AVIO_FLAG_WRITE)) < 0) {
      error = "cannot write " + path + ": " + av_message(rc);
      return false;
    }
    if ((rc = avformat_write_header(format_, nullptr)) < 0) {
      error = path + ": cannot write the header (" + av_message(rc) + ")";
      return false;
    }
    header_written_ = true;
    frame_->format = codec_->pix_fmt;
    frame_->width = width_;
    frame_->height = height_;
    if ((rc = av_frame_get_buffer(frame_, 0)) < 0) {
      error = "out of memory for " + path + " frames";
      return false;
    }
    sws_ = sws_getContext(width_, height_, AV_PIX_FMT_RGB24, width_, height_, codec_->pix_fmt, SWS_BILINEAR,
                          nullptr, nullptr, nullptr);
    if (!sws_) {
      error = path + ": cannot convert RGB to the encoder's pixel format";
      return false;
    }
    return true;
  }

  bool write_rgb(const uint8_t* rgb, int width, int height, std::string& error) override {
    if (closed_) {
      error = path_ + ": frame written after close";
      return false;
    }
    if ((width & ~1) != width_ || (height & ~1) != height_) {
      error = path_ + ": frame is " + std::to_string(width) + "x" + std::to_string(height) + ", the video " +
              std::to_string(width_) + "x" + std::to_string(height_);
      return false;
    }
    int rc = av_frame_make_writable(frame_);
    if (rc < 0) {
      error = path_ + ": " + av_message(rc);
      return false;
    }
    const uint8_t* src[1] = {rgb};
    const int src_stride[1] = {3 * width};
    sws_scale(sws_, src, src_stride, 0, height_, frame_->data, frame_->linesize);
    frame_->pts = frames_;
    ++frames_;
    return encode(frame_, error);
  }

  bool close(std::string& error) override {
    if (closed_) return true;
    closed_ = true;
    bool ok = encode(nullptr, error);
    const int rc = av_write_trailer(format_);
    if (ok && rc < 0) {
      error = path_ + ": cannot finish the file (" + av_message(rc) + ")";
      ok = false;
    }
    return ok;
  }

  std::string codec_name() const override { return codec_ ? codec_->codec->name : ""; }
  int64_t frames_written() const override { return frames_; }

 private:
  // Sends a frame (nullptr: drain) and writes every packet that comes out.
  bool encode(const AVFrame* frame, std::string& error) {
    int rc = avcodec_send_frame(codec_, frame);
    if (rc < 0) {
      error = path_ + ": encoding failed (" + av_message(rc) + ")";
      return false;
    }
    for (;;) {
      rc = avcodec_receive_packet(codec_, packet_);
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return true;
      if (rc < 0) {
        error = path_ + ": encoding failed (" + av_message(rc) + ")";
        return false;
      }
      // Every frame lasts one tick; without it MP4's edit list drops the last frame.
      if (packet_->duration <= 0) packet_->duration = 1;
      av_packet_rescale_ts(packet_, codec_->time_base, stream_->time_base);
      packet_->stream_index = stream_->index;
      rc = av_interleaved_write_frame(format_, packet_);
      if (rc < 0) {
        error = "cannot write " + path_ + ": " + av_message(rc);
        return false;
      }
    }
  }

  std::string path_;
  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVStream* stream_ = nullptr;
  AVFrame* frame_ = nullptr;
  AVPacket* packet_ = nullptr;
  SwsContext* sws_ = nullptr;
  int width_ = 0, height_ = 0;
  int64_t frames_ = 0;
  bool header_written_ = false, closed_ = false;
};

}  // namespace

std::unique_ptr<VideoWriter> open_av_writer(const std::string& path, int width, int height, double fps,
                                            std::string& error) {
  av_log_set_level(AV_LOG_QUIET);  // failures come back as messages
  auto writer = std::make_unique<AvVideoWriter>();
  if (!writer->open(path, width, height, fps, error)) return nullptr;
  return writer;
}

}  // namespace osprey::media
