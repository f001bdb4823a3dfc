// JPEG decoding with libjpeg-turbo. libjpeg reports fatal errors through
// error_exit, which by default calls exit(); ours longjmps back to the one
// frame that owns the decompressor, and the error becomes an osprey::Error.
#include <csetjmp>
#include <cstdio>
#include <cstring>

// jpeglib.h needs FILE and size_t declared first (cstdio above).
#include <jerror.h>
#include <jpeglib.h>

#include "core/error.h"
#include "vision/image_io.h"

namespace osprey::vision {
namespace {

// Progressive files can hold thousands of tiny scans that each cost a full
// pass over the image; real encoders emit about ten.
constexpr int kMaxScans = 500;
constexpr long kMaxDecoderMemory = 1024L * 1024 * 1024;

struct ErrorManager {
  jpeg_error_mgr pub;  // must stay first: libjpeg hands us a jpeg_error_mgr*
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Corrupt-data warnings mean the decoded pixels are partly invented (a
// truncated file decodes as grey), so they fail like errors. Extraneous bytes
// between markers leave the image intact and are common in camera files.
void on_message(j_common_ptr cinfo, int level) {
  if (level == -1 && cinfo->err->msg_code != JWRN_EXTRANEOUS_DATA) on_error(cinfo);
}

void on_progress(j_common_ptr cinfo) {
  auto* dinfo = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (dinfo->input_scan_number > kMaxScans) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    std::snprintf(err->message, sizeof(err->message), "more than %d progressive scans", kMaxScans);
    std::longjmp(err->jump, 1);
  }
}

// The longjmp lands in this frame. Only trivially destructible locals live
// here (the pixel vector belongs to the caller's `out`), and the EXIF parse
// finishes before the next libjpeg call, so the jump skips no destructor.
// Returns false with err.message set on failure.
bool decode(std::span<const uint8_t> bytes, jpeg_decompress_struct& cinfo, ErrorManager& err,
            jpeg_progress_mgr& progress, DecodedImage& out) {
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.mem->max_memory_to_use = kMaxDecoderMemory;
  progress.progress_monitor = on_progress;
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);

  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && std::memcmp(m->data, "Exif\0\0", 6) == 0) {
      // Parsed here: the marker bytes belong to libjpeg's memory pool.
      out.orientation = exif_orientation({m->data, m->data_length});
      break;
    }
  }

  // Gray stays gray; everything else (YCbCr, CMYK is refused below) is RGB.
  if (cinfo.jpeg_color_space == JCS_GRAYSCALE) {
    cinfo.out_color_space = JCS_GRAYSCALE;
  } else if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    std::snprintf(err.message, sizeof(err.message), "CMYK JPEG files are not supported");
    jpeg_destroy_decompress(&cinfo);
    return false;
  } else {
    cinfo.out_color_space = JCS_RGB;
  }
  jpeg_calc_output_dimensions(&cinfo);
  const auto width = static_cast<int64_t>(cinfo.output_width);
  const auto height = static_cast<int64_t>(cinfo.output_height);
  if (width <= 0 || height <= 0 || width > kMaxImageSide || height > kMaxImageSide ||
      width * height > kMaxImagePixels) {
    std::snprintf(err.message, sizeof(err.message), "image size %ldx%ld is out of range",
                  static_cast<long>(width), static_cast<long>(height));
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_start_decompress(&cinfo);
  Image& image = out.image;
  image.width = static_cast<int>(cinfo.output_width);
  image.height = static_cast<int>(cinfo.output_height);
  image.channels = cinfo.output_components;
  image.pixels.resize(image.stride() * static_cast<size_t>(image.height));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = image.row(static_cast<int>(cinfo.output_scanline));
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace

DecodedImage decode_jpeg(std::span<const uint8_t> bytes) {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  jpeg_progress_mgr progress{};
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  DecodedImage out;
  const bool ok = decode(bytes, cinfo, err, progress, out);
  OSPREY_CHECK(ok, "jpeg: {}", err.message);
  return out;
}

}  // namespace osprey::vision
