// The independent oracle for the VDO tests: frames of a video decoded with
// libavcodec and converted with libswscale (libvdostream converts with libyuv).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

namespace osprey::vdo_test {

// The first count frames of path, each converted by swscale to format at
// width x height (tightly packed); empty on failure.
inline std::vector<std::vector<uint8_t>> reference_frames(const std::string& path, int count,
                                                          AVPixelFormat format, int width, int height) {
  std::vector<std::vector<uint8_t>> frames;
  AVFormatContext* fmt = nullptr;
  if (avformat_open_input(&fmt, path.c_str(), nullptr, nullptr) < 0) return frames;
  avformat_find_stream_info(fmt, nullptr);
  const AVCodec* codec = nullptr;
  const int stream = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(ctx, fmt->streams[stream]->codecpar);
  avcodec_open2(ctx, codec, nullptr);
  AVPacket* packet = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  while (int(frames.size()) < count && av_read_frame(fmt, packet) >= 0) {
    if (packet->stream_index == stream && avcodec_send_packet(ctx, packet) >= 0) {
      while (int(frames.size()) < count && avcodec_receive_frame(ctx, frame) == 0) {
        SwsContext* sws =
            sws_getContext(frame->width, frame->height, AVPixelFormat(frame->format), width, height, format,
                           SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr);
        std::vector<uint8_t> out(size_t(av_image_get_buffer_size(format, width, height, 1)));
        uint8_t* dst[4] = {};
        int stride[4] = {};
        av_image_fill_arrays(dst, stride, out.data(), format, width, height, 1);
        sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst, stride);
        sws_freeContext(sws);
        frames.push_back(std::move(out));
        av_frame_unref(frame);
      }
    }
    av_packet_unref(packet);
  }
  av_frame_free(&frame);
  av_packet_free(&packet);
  avcodec_free_context(&ctx);
  avformat_close_input(&fmt);
  return frames;
}

}  // namespace osprey::vdo_test
