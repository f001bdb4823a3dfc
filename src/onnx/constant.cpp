#include "onnx/constant.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/limits.h"

namespace osprey::onnx {

namespace {

namespace fs = std::filesystem;
using ::onnx::TensorProto;

size_t element_size(int type) {
  switch (type) {
    case TensorProto::FLOAT:
    case TensorProto::INT32:
    case TensorProto::UINT32: return 4;
    case TensorProto::DOUBLE:
    case TensorProto::INT64:
    case TensorProto::UINT64: return 8;
    case TensorProto::FLOAT16:
    case TensorProto::INT16:
    case TensorProto::UINT16: return 2;
    case TensorProto::INT8:
    case TensorProto::UINT8:
    case TensorProto::BOOL: return 1;
    default: return 0;
  }
}

float half_to_float(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  float v = exponent == 0    ? std::ldexp(static_cast<float>(mantissa), -24)
            : exponent == 31 ? (mantissa ? NAN : INFINITY)
                             : std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  return (h & 0x8000) ? -v : v;
}

}  // namespace

std::string check_external_location(const TensorProto& t, const std::string& model_dir) {
  std::string location;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") location = kv.value();
  }
  OSPREY_CHECK(!model_dir.empty(), "tensor '{}': external data is not allowed for a model given as bytes",
               t.name());
  OSPREY_CHECK(!location.empty(), "tensor '{}': external data without a location", t.name());
  const fs::path rel(location);
  OSPREY_CHECK(rel.is_relative(), "tensor '{}': external data '{}' is outside the model's folder", t.name(),
               location);
  std::error_code ec;
  const fs::path dir = fs::weakly_canonical(fs::absolute(model_dir), ec);
  const fs::path file = fs::weakly_canonical(dir / rel, ec);
  const auto [d_end, f_it] = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
  OSPREY_CHECK(!ec && d_end == dir.end() && f_it != file.end(),
               "tensor '{}': external data '{}' is outside the model's folder", t.name(), location);
  return file.string();
}

namespace {

// The bytes of tensor data kept in a file next to the model.
std::string read_external(const TensorProto& t, const std::string& model_dir, size_t expected) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") location = kv.value();
    try {
      if (kv.key() == "offset") offset = std::stoll(kv.value());
      if (kv.key() == "length") length = std::stoll(kv.value());
    } catch (const std::exception&) {
      fail("tensor '{}': external data {} '{}' is not a number", t.name(), kv.key(), kv.value());
    }
  }
  const std::string file = check_external_location(t, model_dir);
  OSPREY_CHECK(offset >= 0 && (length < 0 || static_cast<size_t>(length) == expected),
               "tensor '{}': external data offset {} / length {} do not fit its {} bytes", t.name(), offset,
               length, expected);
  std::ifstream in(file, std::ios::binary);
  OSPREY_CHECK(in.good(), "tensor '{}': cannot open external data '{}'", t.name(), location);
  std::string bytes(expected, '\0');
  in.seekg(offset);
  in.read(bytes.data(), static_cast<std::streamsize>(expected));
  OSPREY_CHECK(in.good() && in.gcount() == static_cast<std::streamsize>(expected),
               "tensor '{}': external data '{}' is shorter than its {} bytes", t.name(), location, expected);
  return bytes;
}

template <typename T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

std::vector<int64_t> Constant::ints() const {
  if (!is_float) return i;
  std::vector<int64_t> out;
  for (float v : f) {
    OSPREY_CHECK(std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 9e18f, "value {} is not an integer",
                 v);
    out.push_back(static_cast<int64_t>(v));
  }
  return out;
}

Constant Constant::floats(std::vector<int64_t> dims, std::vector<float> values) {
  Constant c;
  c.dims = std::move(dims);
  c.f = std::move(values);
  return c;
}

Constant Constant::integers(std::vector<int64_t> dims, std::vector<int64_t> values) {
  Constant c;
  c.is_float = false;
  c.dims = std::move(dims);
  c.i = std::move(values);
  return c;
}

int64_t checked_count(const std::vector<int64_t>& dims, const std::string& what) {
  OSPREY_CHECK(static_cast<int>(dims.size()) <= limits::kMaxRank, "{} has rank {}, above {}", what,
               dims.size(), limits::kMaxRank);
  Shape shape;
  for (int64_t d : dims) {
    OSPREY_CHECK(d >= 0 && d <= limits::kMaxDimension, "{} has dimension {}, out of range", what, d);
    shape.push_back(static_cast<int32_t>(d));
  }
  return limits::checked_elements(shape, what);
}

Constant read_tensor(const TensorProto& t, const std::string& model_dir) {
  const std::string what = fmt::format("tensor '{}'", t.name());
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  const int64_t n = checked_count(dims, what);
  const size_t elem = element_size(t.data_type());
  OSPREY_CHECK(elem > 0, "{}: element type {} is not supported", what, t.data_type());
  const bool is_float = t.data_type() == TensorProto::FLOAT || t.data_type() == TensorProto::DOUBLE ||
                        t.data_type() == TensorProto::FLOAT16;
  Constant c;
  c.is_float = is_float;
  c.dims = dims;
  const size_t count = static_cast<size_t>(n);

  std::string external;
  const std::string* raw = nullptr;
  if (t.data_location() == TensorProto::EXTERNAL) {
    external = read_external(t, model_dir, count * elem);
    raw = &external;
  } else if (t.has_raw_data()) {
    raw = &t.raw_data();
  }
  if (raw) {
    OSPREY_CHECK(raw->size() == count * elem, "{}: raw data has {} bytes, {} elements need {}", what,
                 raw->size(), count, count * elem);
    const char* p = raw->data();
    for (size_t k = 0; k < count; ++k, p += elem) {
      switch (t.data_type()) {
        case TensorProto::FLOAT: c.f.push_back(load<float>(p)); break;
        case TensorProto::DOUBLE: c.f.push_back(static_cast<float>(load<double>(p))); break;
        case TensorProto::FLOAT16: c.f.push_back(half_to_float(load<uint16_t>(p))); break;
        case TensorProto::INT64: c.i.push_back(load<int64_t>(p)); break;
        case TensorProto::UINT64: c.i.push_back(static_cast<int64_t>(load<uint64_t>(p))); break;
        case TensorProto::INT32: c.i.push_back(load<int32_t>(p)); break;
        case TensorProto::UINT32: c.i.push_back(load<uint32_t>(p)); break;
        case TensorProto::INT16: c.i.push_back(load<int16_t>(p)); break;
        case TensorProto::UINT16: c.i.push_back(load<uint16_t>(p)); break;
        case TensorProto::INT8: c.i.push_back(load<int8_t>(p)); break;
        default: c.i.push_back(load<uint8_t>(p)); break;  // UINT8, BOOL
      }
    }
    return c;
  }
  // Typed fields: which one holds the values depends on the element type.
  auto take = [&](auto& field, auto convert) {
    OSPREY_CHECK(static_cast<size_t>(field.size()) == count, "{}: has {} values, its shape needs {}", what,
                 field.size(), count);
    for (const auto& v : field) convert(v);
  };
  switch (t.data_type()) {
    case TensorProto::FLOAT: take(t.float_data(), [&](float v) { c.f.push_back(v); }); break;
    case TensorProto::DOUBLE:
      take(t.double_data(), [&](double v) { c.f.push_back(static_cast<float>(v)); });
      break;
    case TensorProto::FLOAT16:
      take(t.int32_data(), [&](int32_t v) { c.f.push_back(half_to_float(static_cast<uint16_t>(v))); });
      break;
    case TensorProto::INT64: take(t.int64_data(), [&](int64_t v) { c.i.push_back(v); }); break;
    case TensorProto::UINT64:
    case TensorProto::UINT32:
      take(t.uint64_data(), [&](uint64_t v) { c.i.push_back(static_cast<int64_t>(v)); });
      break;
    default: take(t.int32_data(), [&](int32_t v) { c.i.push_back(v); }); break;
  }
  return c;
}

}  // namespace osprey::onnx
