#include "backends/avx512/int8_pad.h"

#include <pthreadpool.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/avx512/int8_kernels.h"
#include "backends/avx512/intrinsics.h"
#include "backends/op_checks.h"

namespace osprey {

namespace {

using namespace backend_checks;

int64_t zero_point(const Tensor& t) {
  return t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0];
}

// Per-tensor parameters, the same on both tensors.
bool same_params(const Tensor& a, const Tensor& b) {
  return a.quant.scale.size() == 1 && b.quant.scale.size() == 1 && a.quant.scale[0] == b.quant.scale[0] &&
         a.quant.zero_point.size() <= 1 && b.quant.zero_point.size() <= 1 && zero_point(a) == zero_point(b);
}

// The stored byte of `value` as the integer it stands for.
int64_t byte_value(const Tensor& t, uint8_t byte) {
  return t.type == DType::kInt8 ? static_cast<int8_t>(byte) : byte;
}

}  // namespace

bool int8_zero_point_pad(const Graph& graph, const Op& op, Int8ZeroPointPad& pad) {
  if (op.index < 0 ||
      (op.code != static_cast<int32_t>(OpCode::kPad) && op.code != static_cast<int32_t>(OpCode::kPadV2)) ||
      *io_mismatch(op, 2, 3, 1)) {
    return false;
  }
  const Tensor& input = in(graph, op, 0);
  const Tensor& output = out(graph, op);
  if (!is_int8_activation(input) || !is_int8_activation(output) || output.type != input.type ||
      !same_params(input, output)) {
    return false;
  }
  // PAD fills with the output's zero point; PADV2 with its value, which the
  // reference kernel asks to be quantized as the output is.
  if (has(op, 2)) {
    const Tensor& value = in(graph, op, 2);
    if (value.type != input.type || !value.is_constant || !value.data || value.num_elements() != 1 ||
        !same_params(value, output) || byte_value(value, value.data[0]) != zero_point(output)) {
      return false;
    }
  }
  std::vector<int64_t> pads;
  const Tensor& paddings = in(graph, op, 1);
  if (!constant_ints(paddings, pads) || paddings.shape != Shape{4, 2}) return false;
  if (pads[0] || pads[1]) return false;  // batches stay
  for (size_t d = 1; d < 4; ++d) {
    if (pads[2 * d] < 0 || pads[2 * d + 1] < 0 ||
        input.dim(static_cast<int>(d)) + pads[2 * d] + pads[2 * d + 1] != output.dim(static_cast<int>(d))) {
      return false;
    }
  }
  if (output.dim(0) != input.dim(0)) return false;
  pad.source = op.inputs[0];
  pad.top = static_cast<int>(pads[2]);
  pad.bottom = static_cast<int>(pads[3]);
  pad.left = static_cast<int>(pads[4]);
  pad.right = static_cast<int>(pads[5]);
  pad.channels_before = static_cast<int>(pads[6]);
  pad.channels_after = static_cast<int>(pads[7]);
  return true;
}

bool int8_spatial_pad(const Graph& graph, const Op& op, Int8SpatialPad& pad) {
  Int8ZeroPointPad any;
  if (!int8_zero_point_pad(graph, op, any) || any.channels_before || any.channels_after) return false;
  pad = any;
  return true;
}

namespace {

struct PadCopy {
  Int8ZeroPointPad pad;
  Shape in, out;  // NHWC
  uint8_t fill = 0;
};

// The vector code runs only where the level (int8_cpu.h) says the CPU has AVX-512.
#include "backends/avx512/avx512_target_begin.h"

// `pixels` pixels of `c` channels into pixels of `c` + `after` (channel pads
// after the data only): each pixel one masked load and store per 64 bytes.
void copy_pixels_padding_channels(const uint8_t* in, uint8_t* out, int64_t pixels, int64_t c, int64_t after,
                                  uint8_t fill) {
  const int64_t out_c = c + after;
  const __m512i fills = _mm512_set1_epi8(static_cast<char>(fill));
  for (int64_t p = 0; p < pixels; ++p, in += c, out += out_c) {
    for (int64_t o = 0; o < out_c; o += 64) {
      const int64_t n = std::min<int64_t>(64, out_c - o), data = std::clamp<int64_t>(c - o, 0, 64);
      const __mmask64 stored = n == 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
      const __mmask64 read = data == 64 ? ~__mmask64{0} : (__mmask64{1} << data) - 1;
      _mm512_mask_storeu_epi8(out + o, stored, _mm512_mask_loadu_epi8(fills, read, in + o));
    }
  }
}

#include "backends/avx512/avx512_target_end.h"

// Output row `row` (batch * out height + y).
void pad_row(const PadCopy& p, const uint8_t* input, uint8_t* output, int64_t row) {
  const Int8ZeroPointPad& pad = p.pad;
  const int64_t oh = p.out[1], ow = p.out[2], oc = p.out[3], ih = p.in[1], iw = p.in[2], ic = p.in[3];
  const int64_t b = row / oh, iy = row % oh - pad.top;
  uint8_t* out = output + row * ow * oc;
  if (iy < 0 || iy >= ih) {
    std::memset(out, p.fill, static_cast<size_t>(ow * oc));
    return;
  }
  const uint8_t* in = input + (b * ih + iy) * iw * ic;
  std::memset(out, p.fill, static_cast<size_t>(pad.left * oc));
  out += pad.left * oc;
  if (oc == ic) {
    std::memcpy(out, in, static_cast<size_t>(iw * ic));
  } else if (pad.channels_before == 0) {
    copy_pixels_padding_channels(in, out, iw, ic, pad.channels_after, p.fill);
  } else {
    for (int64_t x = 0; x < iw; ++x) {
      uint8_t* o = out + x * oc;
      std::memset(o, p.fill, static_cast<size_t>(pad.channels_before));
      std::memcpy(o + pad.channels_before, in + x * ic, static_cast<size_t>(ic));
      std::memset(o + pad.channels_before + ic, p.fill, static_cast<size_t>(pad.channels_after));
    }
  }
  std::memset(out + iw * oc, p.fill, static_cast<size_t>(pad.right * oc));
}

struct Task {
  const PadCopy* p;
  const uint8_t* input;
  uint8_t* output;
};

class Int8PadKernel final : public Kernel {
 public:
  Int8PadKernel(PadCopy p, std::shared_ptr<pthreadpool> pool) : p_(std::move(p)), pool_(std::move(pool)) {}

  void prepare(KernelContext& ctx) override { check_built_shapes(ctx, "int8 PAD", p_.in, p_.out); }

  void eval(KernelContext& ctx) override {
    Task task{&p_, ctx.input(0).data, ctx.output(0).data};
    pthreadpool_parallelize_1d(
        pool_.get(),
        [](void* context, size_t row) {
          const Task& t = *static_cast<const Task*>(context);
          pad_row(*t.p, t.input, t.output, static_cast<int64_t>(row));
        },
        &task, static_cast<size_t>(int64_t{p_.out[0]} * p_.out[1]), 0);
  }

 private:
  PadCopy p_;
  std::shared_ptr<pthreadpool> pool_;
};

}  // namespace

std::unique_ptr<Kernel> make_int8_pad(const Graph& graph, const Op& op, Int8Level level,
                                      std::shared_ptr<pthreadpool> pool) {
  PadCopy p;
  if (level < Int8Level::kAvx512 || !int8_zero_point_pad(graph, op, p.pad)) {
    return nullptr;
  }
  const Tensor& output = out(graph, op);
  p.in = in(graph, op, 0).shape;
  p.out = output.shape;
  p.fill = static_cast<uint8_t>(zero_point(output));
  return std::make_unique<Int8PadKernel>(std::move(p), std::move(pool));
}

}  // namespace osprey
