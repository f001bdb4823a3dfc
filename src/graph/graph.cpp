#include "graph/graph.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace osprey {

std::string Op::name() const {
  if (code == static_cast<int32_t>(OpCode::kCustom)) return custom_code.empty() ? "CUSTOM" : custom_code;
  return op_code_name(code);
}

uint8_t* Graph::allocate_constant(Tensor& t) {
  t.data = allocate_bytes(t.num_bytes());
  t.is_constant = true;
  return t.data;
}

namespace {
size_t padded(size_t size) {
  return size == 0 ? 64 : (size + 63) / 64 * 64;
}
}  // namespace

uint8_t* Graph::own(size_t rounded) {
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
  if (!p) throw std::bad_alloc();
  OwnedBuffer buf;
  buf.bytes = {p, [](uint8_t* q) { std::free(q); }};
  buf.size = rounded;
  owned_.push_back(std::move(buf));
  return p;
}

uint8_t* Graph::allocate_bytes(size_t size) {
  const size_t rounded = padded(size);
  uint8_t* p = own(rounded);
  std::memset(p, 0, rounded);
  return p;
}

uint8_t* Graph::copy_bytes(const uint8_t* from, size_t size) {
  const size_t rounded = padded(size);
  uint8_t* p = own(rounded);
  if (size) std::memcpy(p, from, size);
  std::memset(p + size, 0, rounded - size);
  return p;
}

}  // namespace osprey
