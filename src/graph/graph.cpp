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

uint8_t* Graph::allocate_bytes(size_t size) {
  size_t rounded = (size + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  OwnedBuffer buf;
  buf.bytes = {p, [](uint8_t* q) { std::free(q); }};
  buf.size = rounded;
  owned_.push_back(std::move(buf));
  return p;
}

}  // namespace osprey
