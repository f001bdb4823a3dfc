#include "io/random_fill.h"

#include <cstring>

#include "core/error.h"

namespace osprey {

namespace {
template <typename T>
void fill_int(Tensor& t, std::mt19937& rng, int lo, int hi) {
  std::uniform_int_distribution<int> dist(lo, hi);
  T* p = t.data_as<T>();
  for (int64_t i = 0; i < t.num_elements(); ++i) p[i] = static_cast<T>(dist(rng));
}
}  // namespace

void fill_random(Tensor& t, std::mt19937& rng) {
  switch (t.type) {
    case DType::kFloat32: {
      std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
      float* p = t.data_as<float>();
      for (int64_t i = 0; i < t.num_elements(); ++i) p[i] = dist(rng);
      return;
    }
    case DType::kUInt8: return fill_int<uint8_t>(t, rng, 0, 255);
    case DType::kInt8: return fill_int<int8_t>(t, rng, -128, 127);
    case DType::kInt16: return fill_int<int16_t>(t, rng, -32768, 32767);
    case DType::kInt32: return fill_int<int32_t>(t, rng, 0, 9);
    case DType::kBool: return fill_int<uint8_t>(t, rng, 0, 1);
    default: fail("cannot make random {} values", dtype_name(t.type));
  }
}

}  // namespace osprey
