#include "io/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string_view>

#include "core/error.h"

namespace osprey {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

struct Descr {
  const char* text;
  DType type;
};
// '|' marks single-byte types, for which byte order does not apply.
constexpr Descr kDescrs[] = {
    {"<f4", DType::kFloat32}, {"<f2", DType::kFloat16}, {"<i4", DType::kInt32},
    {"|u1", DType::kUInt8},   {"<i8", DType::kInt64},   {"|b1", DType::kBool},
    {"<i2", DType::kInt16},   {"|i1", DType::kInt8},    {"<f8", DType::kFloat64},
};

// Value text of `key` in the header dict, e.g. "'<f4'" or "(1, 3)".
std::string_view dict_value(std::string_view header, std::string_view key) {
  const std::string quoted = fmt::format("'{}'", key);
  size_t pos = header.find(quoted);
  if (pos == std::string_view::npos) fail("header has no '{}'", key);
  pos = header.find(':', pos + quoted.size());
  if (pos == std::string_view::npos) fail("header entry '{}' has no value", key);
  ++pos;
  while (pos < header.size() && header[pos] == ' ') ++pos;
  size_t end = pos;
  if (end < header.size() && header[end] == '(') {
    end = header.find(')', end);
    if (end == std::string_view::npos) fail("header shape is not closed");
    ++end;
  } else {
    while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  }
  return header.substr(pos, end - pos);
}

Shape parse_shape(std::string_view text) {
  Shape shape;
  size_t i = 1;  // skip '('
  int64_t elements = 1;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
    if (i >= text.size() || text[i] == ')') break;
    int64_t v = 0;
    bool digits = false;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      v = v * 10 + (text[i] - '0');
      digits = true;
      // A dimension is an int32 (2^31 would wrap negative behind a zero dimension).
      if (v > std::numeric_limits<int32_t>::max()) fail("shape dimension is too large");
      ++i;
    }
    if (!digits) fail("shape {} is not a tuple of sizes", text);
    while (i < text.size() && text[i] == 'L') ++i;
    elements *= v;
    if (elements > (int64_t{1} << 32)) fail("shape {} is too large", text);
    shape.push_back(static_cast<int32_t>(v));
  }
  return shape;
}

}  // namespace

NpyArray parse_npy(const uint8_t* bytes, size_t size) {
  if (size < 10 || std::memcmp(bytes, kMagic, kMagicLen) != 0) fail("not a .npy file (no \\x93NUMPY magic)");
  const uint8_t major = bytes[6];
  size_t header_len = 0;
  size_t header_start = 0;
  if (major == 1) {
    header_len = bytes[8] | (size_t{bytes[9]} << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) fail("truncated .npy header");
    header_len = bytes[8] | (size_t{bytes[9]} << 8) | (size_t{bytes[10]} << 16) | (size_t{bytes[11]} << 24);
    header_start = 12;
  } else {
    fail("unsupported .npy format version {}", major);
  }
  if (header_len > size - header_start) fail("truncated .npy header");
  std::string_view header(reinterpret_cast<const char*>(bytes + header_start), header_len);

  NpyArray array;
  std::string_view descr = dict_value(header, "descr");
  if (descr.size() < 2) fail("bad dtype {}", descr);
  descr = descr.substr(1, descr.size() - 2);
  bool found = false;
  for (const Descr& d : kDescrs) {
    std::string_view want = d.text;
    // NumPy writes '|u1' but accepts '<u1'; take either for single bytes.
    if (descr == want || (want[0] == '|' && descr.size() == 3 && descr.substr(1) == want.substr(1))) {
      array.type = d.type;
      found = true;
      break;
    }
  }
  if (!found)
    fail("unsupported dtype '{}' (osprey reads little-endian f4, f2, i4, i2, i1, u1, i8, f8, b1)", descr);
  if (dict_value(header, "fortran_order").substr(0, 4) != "Fals")
    fail("Fortran-order arrays are not supported");
  array.shape = parse_shape(dict_value(header, "shape"));

  const size_t data_start = header_start + header_len;
  const size_t expected = static_cast<size_t>(num_elements(array.shape)) * dtype_size(array.type);
  const size_t available = size - data_start;
  if (available != expected) {
    fail("data is {} bytes, shape {} {} needs {}", available, shape_str(array.shape), dtype_name(array.type),
         expected);
  }
  array.data.assign(bytes + data_start, bytes + size);
  return array;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return parse_npy(bytes.data(), bytes.size());
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
}

void write_npy(const std::string& path, DType type, const Shape& shape, const void* data) {
  const char* descr = nullptr;
  for (const Descr& d : kDescrs) {
    if (d.type == type) descr = d.text;
  }
  if (!descr) fail("{}: cannot write {} as .npy", path, dtype_name(type));
  std::string dims;
  for (int32_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);  // "(3,)" keeps its comma, "(1, 3)" does not
  if (shape.empty()) dims.clear();
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, dims);
  // Pad so that the data starts on a 64-byte boundary, ending with '\n'.
  const size_t unpadded = kMagicLen + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail("{}: cannot write", path);
  out.write(kMagic, kMagicLen);
  const char version[2] = {1, 0};
  out.write(version, 2);
  const uint16_t len = static_cast<uint16_t>(header.size());
  const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(len_bytes, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(data),
            static_cast<std::streamsize>(static_cast<size_t>(num_elements(shape)) * dtype_size(type)));
  if (!out) fail("{}: write failed", path);
}

}  // namespace osprey
