#include "kernels/op_resolver.h"

namespace osprey {

namespace {

KernelFactory lookup(const std::map<int32_t, KernelFactory>& map, int32_t code) {
  auto it = map.find(code);
  return it == map.end() ? nullptr : it->second;
}

bool is_integer_activation(DType t) {
  return t == DType::kInt8 || t == DType::kUInt8 || t == DType::kInt16;
}

// Picks the float or the integer kernel from the type of the op's first
// output (input 0 may be a shape, as in TRANSPOSE_CONV).
class TypeDispatchKernel : public Kernel {
 public:
  TypeDispatchKernel(KernelFactory float_kernel, KernelFactory quantized_kernel)
      : float_(float_kernel), quantized_(quantized_kernel) {}

  void prepare(KernelContext& ctx) override {
    const bool integer = ctx.num_outputs() > 0 && is_integer_activation(ctx.output(0).type);
    chosen_ = (integer ? quantized_ : float_)();
    chosen_->prepare(ctx);
  }
  void eval(KernelContext& ctx) override { chosen_->eval(ctx); }

 private:
  KernelFactory float_;
  KernelFactory quantized_;
  std::unique_ptr<Kernel> chosen_;
};

}  // namespace

std::unique_ptr<Kernel> OpResolver::create(const Op& op) const {
  if (op.code == static_cast<int32_t>(OpCode::kCustom)) {
    auto it = custom_.find(op.custom_code);
    return it == custom_.end() ? nullptr : it->second();
  }
  KernelFactory f = lookup(float_, op.code);
  KernelFactory q = lookup(quantized_, op.code);
  if (f && q) return std::make_unique<TypeDispatchKernel>(f, q);
  if (f) return f();
  if (q) return q();
  return nullptr;
}

bool OpResolver::supports(const Op& op) const {
  if (op.code == static_cast<int32_t>(OpCode::kCustom)) return custom_.count(op.custom_code) > 0;
  return float_.count(op.code) > 0 || quantized_.count(op.code) > 0;
}

}  // namespace osprey
