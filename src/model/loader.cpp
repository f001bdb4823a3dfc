#include "model/loader.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/error.h"
#include "core/limits.h"
#include "model/tflite_schema_generated.h"
#include "ops/registry.h"

namespace osprey {

namespace {

using limits::kMaxRank;
using limits::kMaxTensorElements;

template <typename T>
size_t vec_size(const flatbuffers::Vector<T>* v) {
  return v ? v->size() : 0;
}

// Copied bytewise: the verifier checks a vector's 4-byte length alignment,
// not its elements', so a corrupt file can place int64 values off 8 bytes.
template <typename T>
std::vector<T> to_vector(const flatbuffers::Vector<T>* v) {
  static_assert(std::is_scalar_v<T>);
  std::vector<T> out(vec_size(v));
  if (!out.empty()) std::memcpy(out.data(), v->Data(), out.size() * sizeof(T));
  return out;
}

class Loader {
 public:
  explicit Loader(const ModelFile& file) : file_(file) {}

  Graph load() {
    verify();
    model_ = tfl::GetModel(file_.data());
    const auto* subgraphs = model_->subgraphs();
    OSPREY_CHECK(vec_size(subgraphs) >= 1, "model has no subgraph");
    sg_ = subgraphs->Get(0);
    OSPREY_CHECK(sg_ != nullptr, "subgraph 0 is missing");
    load_tensors();
    load_ops();
    load_io();
    check_order();
    return std::move(graph_);
  }

 private:
  void verify() {
    OSPREY_CHECK(file_.size() >= 8, "file is {} bytes, too short to be a TFLite model", file_.size());
    if (!tfl::ModelBufferHasIdentifier(file_.data())) {
      std::string id;
      for (int i = 4; i < 8; ++i) {
        char c = static_cast<char>(file_.data()[i]);
        id += (c >= 32 && c < 127) ? c : '?';
      }
      fail("not a TFLite model (file identifier is '{}', expected 'TFL3')", id);
    }
    flatbuffers::Verifier::Options opts;
    opts.max_depth = 64;
    opts.max_tables = 50'000'000;
    flatbuffers::Verifier verifier(file_.data(), file_.size(), opts);
    OSPREY_CHECK(tfl::VerifyModelBuffer(verifier),
                 "corrupt flatbuffer: the TFLite schema verifier rejected the file");
  }

  // The bytes behind buffer `index`, from inside the flatbuffer or, for large
  // models, from an offset of the file; {nullptr, 0} for an empty buffer.
  std::pair<const uint8_t*, size_t> buffer_bytes(uint32_t index, const std::string& who) {
    const auto* buffers = model_->buffers();
    OSPREY_CHECK(index < vec_size(buffers), "{}: buffer {} is out of range (model has {} buffers)", who,
                 index, vec_size(buffers));
    const tfl::Buffer* b = buffers->Get(index);
    if (!b) return {nullptr, 0};
    if (b->data() && b->data()->size() > 0) return {b->data()->data(), b->data()->size()};
    if (b->offset() > 1) {
      OSPREY_CHECK(b->offset() <= file_.size() && b->size() <= file_.size() - b->offset(),
                   "{}: buffer {} points past the end of the file", who, index);
      return {file_.data() + b->offset(), b->size()};
    }
    return {nullptr, 0};
  }

  void load_tensors() {
    const auto* tensors = sg_->tensors();
    const size_t n = vec_size(tensors);
    graph_.tensors.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const tfl::Tensor* src = tensors->Get(static_cast<flatbuffers::uoffset_t>(i));
      OSPREY_CHECK(src != nullptr, "tensor {} is missing", i);
      Tensor& t = graph_.tensors[i];
      t.name = src->name() ? src->name()->str() : "";
      const std::string who = fmt::format("tensor {} '{}'", i, t.name);
      const auto raw_type = static_cast<int8_t>(src->type());
      OSPREY_CHECK(dtype_known(raw_type), "{}: unsupported element type {}", who,
                   tfl::EnumNameTensorType(src->type()));
      t.type = static_cast<DType>(raw_type);
      OSPREY_CHECK(!src->is_variable(), "{}: variable (stateful) tensors are not supported", who);
      OSPREY_CHECK(vec_size(src->shape()) <= static_cast<size_t>(kMaxRank), "{}: rank {} is above {}", who,
                   vec_size(src->shape()), kMaxRank);
      t.shape = to_vector(src->shape());
      // The non-zero dimensions are bounded even beside a 0 (limits::checked_elements).
      int64_t extent = 1;
      const bool empty = std::find(t.shape.begin(), t.shape.end(), 0) != t.shape.end();
      for (size_t d = 0; d < t.shape.size(); ++d) {
        OSPREY_CHECK(t.shape[d] >= 0, "{}: dimension {} is {}", who, d, t.shape[d]);
        if (t.shape[d] != 0) extent *= t.shape[d];
        OSPREY_CHECK(extent <= kMaxTensorElements, "{}: shape {} has more than 2^31 elements{}", who,
                     shape_str(t.shape), empty ? " besides its 0" : "");
      }
      load_quantization(*src, t, who);
      if (src->sparsity()) load_sparsity(*src->sparsity(), t, who);

      auto [bytes, size] = buffer_bytes(src->buffer(), who);
      if (bytes) {
        if (t.sparsity) {
          OSPREY_CHECK(size % dtype_size(t.type) == 0, "{}: sparse buffer of {} bytes is not whole {} values",
                       who, size, dtype_name(t.type));
          const_cast<Sparsity&>(*t.sparsity).value_bytes = size;
        } else {
          OSPREY_CHECK(size == t.num_bytes(), "{}: buffer {} holds {} bytes, shape {} {} needs {}", who,
                       src->buffer(), size, shape_str(t.shape), dtype_name(t.type), t.num_bytes());
        }
        // Kernels read constants in place; the file mapping is read-only and
        // nothing writes to constant tensors.
        t.data = const_cast<uint8_t*>(bytes);
        t.is_constant = true;
        if (reinterpret_cast<uintptr_t>(t.data) % 16 != 0) {
          // Misaligned data (possible in hand-made files): give it aligned storage.
          t.data = graph_.copy_bytes(bytes, size);
        }
      } else {
        OSPREY_CHECK(!t.sparsity, "{}: sparse tensor without data", who);
      }
    }
  }

  void load_quantization(const tfl::Tensor& src, Tensor& t, const std::string& who) {
    const tfl::QuantizationParameters* q = src.quantization();
    if (!q || !q->scale() || q->scale()->size() == 0) return;
    t.quant.scale = to_vector(q->scale());
    t.quant.zero_point = to_vector(q->zero_point());
    t.quant.axis = q->quantized_dimension();
    const size_t n = t.quant.scale.size();
    OSPREY_CHECK(t.quant.zero_point.size() == n || t.quant.zero_point.empty(),
                 "{}: {} scales but {} zero points", who, n, t.quant.zero_point.size());
    if (t.quant.zero_point.empty()) t.quant.zero_point.assign(n, 0);
    for (float s : t.quant.scale) {
      OSPREY_CHECK(std::isfinite(s) && s > 0, "{}: quantization scale {} is not a positive number", who, s);
    }
    if (n > 1) {
      OSPREY_CHECK(t.quant.axis >= 0 && t.quant.axis < t.rank(), "{}: quantized dimension {} out of range",
                   who, t.quant.axis);
      OSPREY_CHECK(static_cast<int64_t>(n) == t.dim(t.quant.axis),
                   "{}: {} per-channel scales for dimension {} of size {}", who, n, t.quant.axis,
                   t.dim(t.quant.axis));
    }
  }

  static std::vector<int32_t> index_vector(tfl::SparseIndexVector type, const void* v) {
    switch (type) {
      case tfl::SparseIndexVector::Int32Vector:
        return to_vector(static_cast<const tfl::Int32Vector*>(v)->values());
      case tfl::SparseIndexVector::Uint16Vector: {
        const auto* values = static_cast<const tfl::Uint16Vector*>(v)->values();
        return values ? std::vector<int32_t>(values->begin(), values->end()) : std::vector<int32_t>{};
      }
      case tfl::SparseIndexVector::Uint8Vector: {
        const auto* values = static_cast<const tfl::Uint8Vector*>(v)->values();
        return values ? std::vector<int32_t>(values->begin(), values->end()) : std::vector<int32_t>{};
      }
      default: return {};
    }
  }

  void load_sparsity(const tfl::SparsityParameters& sp, Tensor& t, const std::string& who) {
    auto s = std::make_shared<Sparsity>();
    s->traversal_order = to_vector(sp.traversal_order());
    s->block_map = to_vector(sp.block_map());
    const size_t dims = vec_size(sp.dim_metadata());
    OSPREY_CHECK(dims == s->traversal_order.size(), "{}: sparsity has {} dim metadata for {} traversal dims",
                 who, dims, s->traversal_order.size());
    for (size_t i = 0; i < dims; ++i) {
      const tfl::DimensionMetadata* m = sp.dim_metadata()->Get(static_cast<flatbuffers::uoffset_t>(i));
      OSPREY_CHECK(m != nullptr, "{}: sparsity dim metadata {} missing", who, i);
      SparseDimension d;
      d.sparse = m->format() == tfl::DimensionType::SPARSE_CSR;
      d.dense_size = m->dense_size();
      if (d.sparse) {
        OSPREY_CHECK(m->array_segments() && m->array_indices(),
                     "{}: sparse dimension {} lacks segments or indices", who, i);
        d.segments = index_vector(m->array_segments_type(), m->array_segments());
        d.indices = index_vector(m->array_indices_type(), m->array_indices());
      }
      s->dims.push_back(std::move(d));
    }
    t.sparsity = std::move(s);
  }

  // The op registry parses known ops; other ops keep reducer options when the file has them.
  static OpOptions parse_options(const tfl::Operator& src, const Op& op) {
    const ops::RawOptions raw{&src, op.custom_options};
    if (ops::find_op(op)) return ops::parse_options(op.code, op.custom_code, raw);
    if (const auto* p = src.builtin_options_as_ReducerOptions()) return ReducerOptions{p->keep_dims()};
    return std::monostate{};
  }

  void load_ops() {
    const auto* codes = model_->operator_codes();
    const auto* ops = sg_->operators();
    const size_t n = vec_size(ops);
    const int num_tensors = static_cast<int>(graph_.tensors.size());
    graph_.ops.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const tfl::Operator* src = ops->Get(static_cast<flatbuffers::uoffset_t>(i));
      OSPREY_CHECK(src != nullptr, "op #{}: missing", i);
      Op op;
      op.index = static_cast<int>(i);
      OSPREY_CHECK(src->opcode_index() < vec_size(codes),
                   "op #{}: opcode index {} out of range (model has {} codes)", i, src->opcode_index(),
                   vec_size(codes));
      const tfl::OperatorCode* code = codes->Get(src->opcode_index());
      OSPREY_CHECK(code != nullptr, "op #{}: operator code {} missing", i, src->opcode_index());
      // Old files only set the 8-bit deprecated code; new ones set both.
      op.code = std::max<int32_t>(static_cast<int32_t>(code->deprecated_builtin_code()),
                                  static_cast<int32_t>(code->builtin_code()));
      op.version = code->version();
      if (op.code == static_cast<int32_t>(OpCode::kCustom)) {
        op.custom_code = code->custom_code() ? code->custom_code()->str() : "";
        op.custom_options = to_vector(src->custom_options());
      }
      const std::string who = fmt::format("op #{} {}", i, op.name());
      op.inputs = to_vector(src->inputs());
      op.outputs = to_vector(src->outputs());
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        const int t = op.inputs[k];
        OSPREY_CHECK(t >= -1 && t < num_tensors,
                     "{}: input {} refers to tensor {}, but the model has {} tensors", who, k, t,
                     num_tensors);
      }
      OSPREY_CHECK(!op.outputs.empty(), "{}: has no outputs", who);
      for (size_t k = 0; k < op.outputs.size(); ++k) {
        const int t = op.outputs[k];
        OSPREY_CHECK(t >= 0 && t < num_tensors,
                     "{}: output {} refers to tensor {}, but the model has {} tensors", who, k, t,
                     num_tensors);
      }
      try {
        op.options = parse_options(*src, op);
      } catch (const Error& e) {
        fail("{}: {}", who, e.what());
      }
      graph_.ops.push_back(std::move(op));
    }
  }

  void load_io() {
    const int num_tensors = static_cast<int>(graph_.tensors.size());
    graph_.inputs = to_vector(sg_->inputs());
    graph_.outputs = to_vector(sg_->outputs());
    OSPREY_CHECK(!graph_.outputs.empty(), "model has no outputs");
    for (int t : graph_.inputs) {
      OSPREY_CHECK(t >= 0 && t < num_tensors, "model input refers to tensor {}, but the model has {} tensors",
                   t, num_tensors);
      OSPREY_CHECK(!graph_.tensors[static_cast<size_t>(t)].is_constant,
                   "model input tensor {} '{}' is a constant", t,
                   graph_.tensors[static_cast<size_t>(t)].name);
    }
    for (int t : graph_.outputs) {
      OSPREY_CHECK(t >= 0 && t < num_tensors,
                   "model output refers to tensor {}, but the model has {} tensors", t, num_tensors);
    }
  }

  // Ops run in file order, so every input must exist before its op runs:
  // a constant, a model input, or an earlier op's output. This also rules out cycles.
  void check_order() {
    std::vector<char> ready(graph_.tensors.size(), 0);
    for (size_t t = 0; t < graph_.tensors.size(); ++t) ready[t] = graph_.tensors[t].is_constant;
    for (int t : graph_.inputs) ready[static_cast<size_t>(t)] = 1;
    for (const Op& op : graph_.ops) {
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        const int t = op.inputs[k];
        if (t < 0) continue;
        OSPREY_CHECK(ready[static_cast<size_t>(t)],
                     "op #{} {}: input {} (tensor {} '{}') is not computed before it", op.index, op.name(), k,
                     t, graph_.tensors[static_cast<size_t>(t)].name);
      }
      for (int t : op.outputs) {
        const Tensor& tensor = graph_.tensors[static_cast<size_t>(t)];
        OSPREY_CHECK(!ready[static_cast<size_t>(t)], "op #{} {}: output tensor {} '{}' is {}", op.index,
                     op.name(), t, tensor.name,
                     tensor.is_constant ? "a constant" : "already written by a model input or an earlier op");
        ready[static_cast<size_t>(t)] = 1;
      }
    }
    for (int t : graph_.outputs) {
      OSPREY_CHECK(ready[static_cast<size_t>(t)], "model output tensor {} '{}' is never computed", t,
                   graph_.tensors[static_cast<size_t>(t)].name);
    }
  }

  const ModelFile& file_;
  const tfl::Model* model_ = nullptr;
  const tfl::SubGraph* sg_ = nullptr;
  Graph graph_;
};

}  // namespace

Graph load_graph(const ModelFile& file) {
  return Loader(file).load();
}

}  // namespace osprey
