// cpu-proc: image preprocessing with libyuv (crop, scale, colour conversion).
//
// A cpu-proc "model" is loaded with fd -1 and these parameters:
//   image.input.format, image.output.format   "nv12", "rgb-interleaved", "rgb-planar"
//   image.input.size, image.output.size       int pair (width, height); output defaults to input
//   image.input.row-pitch, image.output.row-pitch   int, optional (bytes per row)
//   image.input.crop                          int quad (x, y, width, height), optional default
// and a job may set image.input.crop. Conversions:
//   nv12 -> nv12, rgb-interleaved, rgb-planar          crop + scale + convert
//   rgb-interleaved -> rgb-interleaved, rgb-planar     crop + scale (+ split)
//   rgb-planar -> rgb-interleaved                      same size, no crop
// Widths, heights and pitches must be even; crops of nv12 start at even x, y.
#include <libyuv.h>
#include <libyuv/scale_rgb.h>

#include <cstring>
#include <string>

#include "core/enum_names.h"
#include "core/error.h"
#include "runtime/interpreter.h"
#include "service/daemon/device.h"

namespace osprey::service {

namespace {

enum class Format { kNv12, kRgbInterleaved, kRgbPlanar };

constexpr EnumName<Format> kFormatNames[] = {{Format::kNv12, "nv12"},
                                             {Format::kRgbInterleaved, "rgb-interleaved"},
                                             {Format::kRgbPlanar, "rgb-planar"}};

const char* format_name(Format f) {
  return name_of(kFormatNames, f);
}

constexpr int64_t kMaxSide = 16384;

[[noreturn]] void load_error(const std::string& what) {
  throw ServiceError(wire::kErrLoadModel, "cpu-proc: " + what);
}
[[noreturn]] void job_error(const std::string& what) {
  throw ServiceError(wire::kErrJob, "cpu-proc: " + what);
}

Format parse_format(const ParamMap& params, const std::string& key) {
  auto it = params.find(key);
  if (it == params.end()) load_error("missing parameter " + key + " (" + choices(kFormatNames) + ")");
  if (it->second.type != MapValue::kStr) load_error(key + " must be a string (larodMapSetStr)");
  const std::string& v = it->second.s;
  if (auto f = value_named(kFormatNames, v)) return *f;
  load_error(key + " '" + v + "' is not supported (" + choices(kFormatNames) + ")");
}

struct Size {
  int64_t w = 0, h = 0;
};

bool get_size(const ParamMap& params, const std::string& key, Size& out) {
  auto it = params.find(key);
  if (it == params.end()) return false;
  if (it->second.type != MapValue::kArr2) load_error(key + " must be an int pair (larodMapSetIntArr2)");
  out = {it->second.v[0], it->second.v[1]};
  if (out.w < 2 || out.h < 2 || out.w > kMaxSide || out.h > kMaxSide) {
    load_error(key + " " + map_value_str(it->second) + " is out of range (2.." + std::to_string(kMaxSide) +
               ")");
  }
  if (out.w % 2 || out.h % 2) load_error(key + " " + map_value_str(it->second) + " must be even");
  return true;
}

int64_t min_pitch(Format f, int64_t width) {
  return f == Format::kRgbInterleaved ? 3 * width : width;
}

int64_t get_pitch(const ParamMap& params, const std::string& key, Format f, int64_t width) {
  auto it = params.find(key);
  const int64_t least = min_pitch(f, width);
  if (it == params.end()) return least;
  if (it->second.type != MapValue::kInt) load_error(key + " must be an int (larodMapSetInt)");
  int64_t p = it->second.v[0];
  if (p < least || p > 4 * kMaxSide) {
    load_error(key + " " + std::to_string(p) + " is smaller than a row (" + std::to_string(least) +
               " bytes) or too large");
  }
  if (p % 2) load_error(key + " " + std::to_string(p) + " must be even");
  return p;
}

TensorInfo describe(Format f, int64_t w, int64_t h, int64_t pitch, const char* name) {
  TensorInfo t;
  t.name = name;
  t.data_type = wire::kTypeUInt8;
  const auto W = static_cast<uint64_t>(w), H = static_cast<uint64_t>(h), P = static_cast<uint64_t>(pitch);
  switch (f) {
    case Format::kNv12:
      t.layout = wire::kLayout420SP;
      t.dims = {3, H, W};
      t.pitches = {P * H * 3 / 2, P * H, P};
      break;
    case Format::kRgbInterleaved:
      t.layout = wire::kLayoutNHWC;
      t.dims = {1, H, W, 3};
      t.pitches = {P * H, P * H, P, 3};
      break;
    case Format::kRgbPlanar:
      t.layout = wire::kLayoutNCHW;
      t.dims = {1, 3, H, W};
      t.pitches = {3 * P * H, 3 * P * H, P * H, P};
      break;
  }
  t.byte_size = t.pitches[0];
  return t;
}

struct Crop {
  int64_t x = 0, y = 0, w = 0, h = 0;
};

class ProcModel : public LoadedModel {
 public:
  Format in_fmt{}, out_fmt{};
  Size in_size, out_size;
  int64_t in_pitch = 0, out_pitch = 0;
  bool has_default_crop = false;
  Crop default_crop;

  // The most scratch run() grows to: a job's crop can make any job scale.
  uint64_t scratch_bound() const {
    const uint64_t pixels = static_cast<uint64_t>(out_size.w) * static_cast<uint64_t>(out_size.h);
    uint64_t bytes = 0;
    if (in_fmt == Format::kNv12 && out_fmt != Format::kNv12) bytes += pixels * 3 / 2;  // nv12_
    if (out_fmt == Format::kRgbPlanar) bytes += pixels * 3;                            // rgb_
    return bytes;
  }

  Crop parse_crop(const MapValue& v, bool at_load) const {
    auto fail_with = [&](const std::string& what) {
      if (at_load) load_error(what);
      job_error(what);
    };
    if (v.type != MapValue::kArr4)
      fail_with("image.input.crop must be an int quad x,y,w,h (larodMapSetIntArr4)");
    Crop c{v.v[0], v.v[1], v.v[2], v.v[3]};
    const std::string text = map_value_str(v);
    if (c.x < 0 || c.y < 0 || c.w < 1 || c.h < 1 || c.x > in_size.w || c.y > in_size.h ||
        c.w > in_size.w - c.x || c.h > in_size.h - c.y) {
      fail_with("image.input.crop " + text + " is not inside the " + std::to_string(in_size.w) + "x" +
                std::to_string(in_size.h) + " input");
    }
    if (in_fmt == Format::kNv12 && (c.x % 2 || c.y % 2 || c.w % 2 || c.h % 2)) {
      fail_with("image.input.crop " + text + " of an nv12 image must have even x, y, width and height");
    }
    if (in_fmt == Format::kRgbPlanar && (c.x != 0 || c.y != 0 || c.w != in_size.w || c.h != in_size.h)) {
      fail_with("image.input.crop is not supported for rgb-planar input");
    }
    return c;
  }

  void run(const std::vector<IoSpan>& in, const std::vector<IoSpan>& out, const ParamMap& params) override {
    Crop crop = has_default_crop ? default_crop : Crop{0, 0, in_size.w, in_size.h};
    for (const auto& [key, value] : params) {
      if (key == "image.input.crop") {
        crop = parse_crop(value, false);
      } else {
        job_error("unknown job parameter '" + key + "' (supported: image.input.crop)");
      }
    }
    convert(in[0].data, out[0].data, crop);
  }

 private:
  void check(int rc, const char* what) const {
    if (rc != 0) job_error(std::string(what) + " failed (libyuv returned " + std::to_string(rc) + ")");
  }

  void convert(const uint8_t* src, uint8_t* dst, const Crop& c) {
    const int ip = static_cast<int>(in_pitch), op = static_cast<int>(out_pitch);
    const int ow = static_cast<int>(out_size.w), oh = static_cast<int>(out_size.h);
    const int cw = static_cast<int>(c.w), ch = static_cast<int>(c.h);
    const bool scale = cw != ow || ch != oh;
    switch (in_fmt) {
      case Format::kNv12: {
        const uint8_t* y = src + c.y * in_pitch + c.x;
        const uint8_t* uv = src + in_pitch * in_size.h + (c.y / 2) * in_pitch + c.x;
        if (out_fmt == Format::kNv12) {
          uint8_t* dy = dst;
          uint8_t* duv = dst + out_pitch * out_size.h;
          if (!scale) {
            libyuv::CopyPlane(y, ip, dy, op, ow, oh);
            libyuv::CopyPlane(uv, ip, duv, op, ow, oh / 2);
          } else {
            check(libyuv::NV12Scale(y, ip, uv, ip, cw, ch, dy, op, duv, op, ow, oh, libyuv::kFilterBilinear),
                  "NV12Scale");
          }
          return;
        }
        // Scale while still NV12 (half the bytes of RGB), then convert.
        const uint8_t* sy = y;
        const uint8_t* suv = uv;
        int sp = ip;
        if (scale) {
          nv12_.resize(static_cast<size_t>(ow) * oh * 3 / 2);
          check(libyuv::NV12Scale(y, ip, uv, ip, cw, ch, nv12_.data(), ow, nv12_.data() + ow * oh, ow, ow, oh,
                                  libyuv::kFilterBilinear),
                "NV12Scale");
          sy = nv12_.data();
          suv = nv12_.data() + ow * oh;
          sp = ow;
        }
        if (out_fmt == Format::kRgbInterleaved) {
          check(libyuv::NV12ToRAW(sy, sp, suv, sp, dst, op, ow, oh), "NV12ToRAW");
        } else {
          rgb_.resize(static_cast<size_t>(ow) * 3 * oh);
          check(libyuv::NV12ToRAW(sy, sp, suv, sp, rgb_.data(), ow * 3, ow, oh), "NV12ToRAW");
          split(rgb_.data(), ow * 3, dst);
        }
        return;
      }
      case Format::kRgbInterleaved: {
        const uint8_t* s = src + c.y * in_pitch + c.x * 3;
        if (out_fmt == Format::kRgbInterleaved) {
          if (!scale) {
            libyuv::CopyPlane(s, ip, dst, op, ow * 3, oh);
          } else {
            check(libyuv::RGBScale(s, ip, cw, ch, dst, op, ow, oh, libyuv::kFilterBilinear), "RGBScale");
          }
        } else {
          const uint8_t* rs = s;
          int rp = ip;
          if (scale) {
            rgb_.resize(static_cast<size_t>(ow) * 3 * oh);
            check(libyuv::RGBScale(s, ip, cw, ch, rgb_.data(), ow * 3, ow, oh, libyuv::kFilterBilinear),
                  "RGBScale");
            rs = rgb_.data();
            rp = ow * 3;
          }
          split(rs, rp, dst);
        }
        return;
      }
      case Format::kRgbPlanar: {
        const uint8_t* r = src;
        const uint8_t* g = src + in_pitch * in_size.h;
        const uint8_t* b = src + 2 * in_pitch * in_size.h;
        libyuv::MergeRGBPlane(r, ip, g, ip, b, ip, dst, op, ow, oh);
        return;
      }
    }
  }

  void split(const uint8_t* rgb, int rgb_pitch, uint8_t* dst) {
    const int op = static_cast<int>(out_pitch);
    const int64_t plane = out_pitch * out_size.h;
    libyuv::SplitRGBPlane(rgb, rgb_pitch, dst, op, dst + plane, op, dst + 2 * plane, op,
                          static_cast<int>(out_size.w), static_cast<int>(out_size.h));
  }

  std::vector<uint8_t> nv12_;  // scratch, used by the device's one worker thread
  std::vector<uint8_t> rgb_;
};

class ProcDevice : public Device {
 public:
  ProcDevice() : Device("cpu-proc", 0) {}

  std::shared_ptr<LoadedModel> load(std::vector<uint8_t>* bytes, const ParamMap& params, const std::string&,
                                    uint64_t max_working_bytes) override {
    if (bytes) load_error("models are loaded with fd -1 and described by parameters, not a file");
    static const char* const kKeys[] = {
        "image.input.format",    "image.output.format",    "image.input.size", "image.output.size",
        "image.input.row-pitch", "image.output.row-pitch", "image.input.crop"};
    for (const auto& [key, value] : params) {
      bool known = false;
      for (const char* k : kKeys) known = known || key == k;
      if (!known) {
        load_error(
            "unknown parameter '" + key +
            "' (supported: image.input.format, image.output.format, image.input.size, image.output.size, "
            "image.input.row-pitch, image.output.row-pitch, image.input.crop)");
      }
    }
    auto m = std::make_shared<ProcModel>();
    m->in_fmt = parse_format(params, "image.input.format");
    m->out_fmt = parse_format(params, "image.output.format");
    if (!get_size(params, "image.input.size", m->in_size))
      load_error("missing parameter image.input.size (width, height)");
    if (!get_size(params, "image.output.size", m->out_size)) m->out_size = m->in_size;

    const Format in = m->in_fmt, out = m->out_fmt;
    const bool supported = in == Format::kNv12 || (in == Format::kRgbInterleaved && out != Format::kNv12) ||
                           (in == Format::kRgbPlanar && out == Format::kRgbInterleaved);
    if (!supported) {
      load_error(std::string("cannot convert ") + format_name(in) + " to " + format_name(out) +
                 " (supported: nv12 to nv12/rgb-interleaved/rgb-planar, rgb-interleaved to "
                 "rgb-interleaved/rgb-planar, rgb-planar to rgb-interleaved)");
    }
    if (in == Format::kRgbPlanar && (m->out_size.w != m->in_size.w || m->out_size.h != m->in_size.h)) {
      load_error("rgb-planar to rgb-interleaved cannot scale (input and output sizes must be equal)");
    }
    m->in_pitch = get_pitch(params, "image.input.row-pitch", in, m->in_size.w);
    m->out_pitch = get_pitch(params, "image.output.row-pitch", out, m->out_size.w);
    if (auto it = params.find("image.input.crop"); it != params.end()) {
      m->default_crop = m->parse_crop(it->second, true);
      m->has_default_crop = true;
    }
    m->inputs.push_back(describe(in, m->in_size.w, m->in_size.h, m->in_pitch, "input"));
    m->outputs.push_back(describe(out, m->out_size.w, m->out_size.h, m->out_pitch, "output"));
    m->memory = m->scratch_bound();
    if (max_working_bytes > 0 && m->memory > max_working_bytes) {
      throw TensorBudgetExceeded("cpu-proc: the conversion needs " + std::to_string(m->memory) +
                                     " bytes of scratch, above the budget of " +
                                     std::to_string(max_working_bytes),
                                 m->memory, max_working_bytes);
    }
    return m;
  }
};

}  // namespace

std::unique_ptr<Device> make_proc_device() {
  return std::make_unique<ProcDevice>();
}

}  // namespace osprey::service
