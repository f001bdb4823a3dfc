#include "quant/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <tuple>

#include "backends/backend.h"
#include "core/error.h"
#include "model/writer.h"
#include "ops/registry.h"
#include "quant/graph_runner.h"
#include "quant/params.h"
#include "quant/stack_graph_runner.h"
#include "runtime/interpreter.h"
#include "vision/heads/detection_head.h"
#include "vision/heads/segmentation_head.h"

namespace osprey::quant {

void ErrorAccumulator::add(const float* ref, const float* test, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double r = ref[i], t = test[i], e = r - t;
    ref2_ += r * r;
    test2_ += t * t;
    err2_ += e * e;
    dot_ += r * t;
    abs_sum_ += std::abs(e);
    max_ = std::max(max_, std::abs(e));
    ref_max_ = std::max(ref_max_, std::abs(r));
  }
  count_ += n;
}

ErrorMetrics ErrorAccumulator::result() const {
  ErrorMetrics m;
  m.count = count_;
  m.snr_db = err2_ == 0   ? std::numeric_limits<double>::infinity()
             : ref2_ == 0 ? -std::numeric_limits<double>::infinity()
                          : 10.0 * std::log10(ref2_ / err2_);
  m.cosine = ref2_ > 0 && test2_ > 0 ? dot_ / std::sqrt(ref2_ * test2_) : (ref2_ == test2_ ? 1.0 : 0.0);
  m.max_abs_error = max_;
  m.mean_abs_error = count_ ? abs_sum_ / static_cast<double>(count_) : 0;
  m.ref_abs_max = ref_max_;
  return m;
}

DetectionMatch match_detections(const std::vector<vision::Detection>& reference,
                                const std::vector<vision::Detection>& test, float iou_threshold) {
  DetectionMatch m;
  m.reference = static_cast<int>(reference.size());
  m.test = static_cast<int>(test.size());
  std::vector<char> used(test.size(), 0);
  double iou_sum = 0;
  for (const vision::Detection& r : reference) {
    int best = -1;
    float best_iou = iou_threshold;
    for (size_t j = 0; j < test.size(); ++j) {
      if (used[j] || test[j].class_id != r.class_id) continue;
      const float v = vision::iou(r.box, test[j].box);
      if (v >= best_iou) {
        best_iou = v;
        best = static_cast<int>(j);
      }
    }
    if (best >= 0) {
      used[static_cast<size_t>(best)] = 1;
      ++m.found;
      iou_sum += best_iou;
    }
  }
  m.mean_iou = m.found ? iou_sum / m.found : 0;
  return m;
}

namespace {

// Fills `dst` (float, uint8 or int8) with the values of the float tensor `src`,
// quantized like the image path does (round to nearest even, clamp).
void quantize_into(const Tensor& src, Tensor& dst) {
  const float* v = src.data_as<float>();
  const int64_t n = src.num_elements();
  if (dst.type == DType::kFloat32) {
    std::copy(v, v + n, dst.data_as<float>());
    return;
  }
  OSPREY_CHECK(dst.type == DType::kUInt8 || dst.type == DType::kInt8, "input '{}' is {}", dst.name,
               dtype_name(dst.type));
  const float scale = dst.quant.empty() ? 1.0f : dst.quant.scale[0];
  const float zp = dst.quant.empty() ? 0.0f : static_cast<float>(dst.quant.zero_point[0]);
  const float lo = dst.type == DType::kInt8 ? -128 : 0, hi = dst.type == DType::kInt8 ? 127 : 255;
  for (int64_t i = 0; i < n; ++i) {
    const float q = std::clamp(std::nearbyint(v[i] / scale + zp), lo, hi);
    if (dst.type == DType::kInt8) {
      dst.data_as<int8_t>()[i] = static_cast<int8_t>(q);
    } else {
      dst.data_as<uint8_t>()[i] = static_cast<uint8_t>(q);
    }
  }
}

std::vector<float> mask_values(const Tensor& t, vision::MaskActivation activation) {
  std::vector<float> v = dequantize_tensor(t);
  if (t.rank() == 4 && t.dim(3) == 2) {
    std::vector<float> fg(v.size() / 2);
    for (size_t i = 0; i < fg.size(); ++i) fg[i] = 1.0f / (1.0f + std::exp(v[2 * i] - v[2 * i + 1]));
    return fg;
  }
  if (activation == vision::MaskActivation::kSigmoid) {
    for (float& x : v) x = 1.0f / (1.0f + std::exp(-x));
  }
  return v;
}

// An Interpreter on a backend stack, with GraphRunner's names: for
// comparisons of outputs only, which need no intermediate tensor.
class StackRunner {
 public:
  StackRunner(const Graph& graph, const std::string& label, const CompareOptions& options) {
    const BackendStack stack = make_backends(options.backend, options.threads);
    interpreter_ = Interpreter::from_buffer(write_tflite(live_view(graph)), label, stack.options());
  }
  const Graph& graph() const { return interpreter_->graph(); }
  Tensor& input(int i) { return interpreter_->input(i); }
  Tensor& output(int i) { return interpreter_->output(i); }
  int num_inputs() const { return interpreter_->num_inputs(); }
  int num_outputs() const { return interpreter_->num_outputs(); }
  void run() { interpreter_->invoke(); }

 private:
  std::unique_ptr<Interpreter> interpreter_;
};

template <typename Runner>
ComparisonReport compare_runs(Runner& ref, Runner& tst, const SampleSource& source,
                              const CompareOptions& options, const std::function<void(int, int)>& progress) {
  OSPREY_CHECK(ref.num_inputs() == 1 && tst.num_inputs() == 1, "comparison supports single-input models");
  OSPREY_CHECK(ref.num_outputs() == tst.num_outputs(), "the models have {} and {} outputs", ref.num_outputs(),
               tst.num_outputs());
  for (int i = 0; i < ref.num_outputs(); ++i) {
    OSPREY_CHECK(ref.output(i).num_elements() == tst.output(i).num_elements(),
                 "output {} has shape {} in one model and {} in the other", i, shape_str(ref.output(i).shape),
                 shape_str(tst.output(i).shape));
  }
  OSPREY_CHECK(ref.input(0).type == DType::kFloat32, "the reference model's input must be float32");

  // Tensors to compare per layer: non-constant tensors of the test graph whose
  // name (possibly without a quantization suffix) exists in the reference.
  struct Pair {
    int ref = 0, test = 0, op = 0;
    std::string op_name;
    float clip = 0;  // > 0: compare within +-clip (the tensor only feeds LOGISTIC/TANH, which saturate there)
  };
  std::vector<Pair> pairs;
  if (options.per_layer) {
    std::map<std::string, int> by_name;
    for (size_t t = 0; t < ref.graph().tensors.size(); ++t) {
      const Tensor& x = ref.graph().tensors[t];
      if (!x.is_constant && x.type == DType::kFloat32) by_name.emplace(x.name, static_cast<int>(t));
    }
    const Graph& tg = tst.graph();
    for (size_t o = 0; o < tg.ops.size(); ++o) {
      const Op& op = tg.ops[o];
      if (op.code == static_cast<int32_t>(OpCode::kQuantize) ||
          op.code == static_cast<int32_t>(OpCode::kDequantize))
        continue;
      for (int t : op.outputs) {
        const Tensor& x = tg.tensors[static_cast<size_t>(t)];
        std::string name = x.name;
        for (const char* suffix : {"/int8", "/float"}) {
          if (name.size() > std::strlen(suffix) && name.ends_with(suffix))
            name.resize(name.size() - std::strlen(suffix));
        }
        auto it = by_name.find(name);
        if (it == by_name.end()) continue;
        if (ref.graph().tensors[static_cast<size_t>(it->second)].num_elements() != x.num_elements()) continue;
        float clip = 0;
        for (const Op& reader : tg.ops) {
          if (std::find(reader.inputs.begin(), reader.inputs.end(), t) == reader.inputs.end()) continue;
          const ops::OpDef* def = ops::find_op(reader);
          const float c = def && def->quant.saturating_input > 0 ? def->quant.saturating_input : -1.0f;
          clip = (c < 0 || (clip != 0 && clip != c)) ? -1.0f : c;
          if (clip < 0) break;
        }
        pairs.push_back({it->second, t, static_cast<int>(o), op.name(), std::max(clip, 0.0f)});
      }
    }
  }

  ComparisonReport report;
  std::vector<ErrorAccumulator> out_acc(static_cast<size_t>(ref.num_outputs()));
  std::vector<ErrorAccumulator> layer_acc(pairs.size());
  std::vector<float> within(static_cast<size_t>(ref.num_outputs()), 0.0f);
  if (options.spec) {
    for (const vision::OutputBound& b : options.spec->head->output_bounds()) {
      if (b.output >= 0 && b.output < ref.num_outputs()) within[static_cast<size_t>(b.output)] = b.limit;
    }
  }
  const auto* detector = options.spec ? options.spec->find_head<vision::DetectionHead>() : nullptr;
  const auto* segmenter = options.spec ? options.spec->find_head<vision::SegmentationHead>() : nullptr;
  DetectionMatch det_total;
  double iou_sum = 0;
  double mask_iou_sum = 0;
  const Tensor& in = ref.input(0);
  const bool image_input = in.rank() == 4;
  const vision::InputTransform identity =
      image_input ? vision::make_input_transform(in.dim(2), in.dim(1), in.dim(2), in.dim(1),
                                                 vision::ResizeMode::kStretch)
                  : vision::InputTransform{};

  for (int s = 0; s < source.size(); ++s) {
    source.fill(s, ref.input(0));
    if (tst.input(0).type != DType::kFloat32 && source.image_sample(s)) {
      source.fill(s, tst.input(0));  // images: quantized the way detect/segment do it
    } else {
      quantize_into(ref.input(0), tst.input(0));  // float values (quantized here for integer inputs)
    }
    ref.run();
    tst.run();
    for (int o = 0; o < ref.num_outputs(); ++o) {
      std::vector<float> a = dequantize_tensor(ref.output(o));
      std::vector<float> b = dequantize_tensor(tst.output(o));
      if (const float limit = within[static_cast<size_t>(o)]; limit > 0) {
        for (std::vector<float>* v : {&a, &b})
          for (float& x : *v) x = std::clamp(x, -limit, limit);
      }
      out_acc[static_cast<size_t>(o)].add(a.data(), b.data(), static_cast<int64_t>(a.size()));
    }
    for (size_t k = 0; k < pairs.size(); ++k) {
      std::vector<float> a = dequantize_tensor(ref.graph().tensors[static_cast<size_t>(pairs[k].ref)]);
      if (pairs[k].clip > 0) {
        for (float& v : a) v = std::clamp(v, -pairs[k].clip, pairs[k].clip);
      }
      const std::vector<float> b = dequantize_tensor(tst.graph().tensors[static_cast<size_t>(pairs[k].test)]);
      layer_acc[k].add(a.data(), b.data(), static_cast<int64_t>(a.size()));
    }
    if (detector) {
      const auto d_ref = detector->decode(vision::outputs_of(ref, "reference"), identity);
      const auto d_tst = detector->decode(vision::outputs_of(tst, "test"), identity);
      const DetectionMatch m = match_detections(d_ref, d_tst);
      det_total.reference += m.reference;
      det_total.found += m.found;
      det_total.test += m.test;
      iou_sum += m.mean_iou * m.found;
    }
    if (segmenter) {
      const vision::SegmentationParams& h = segmenter->params();
      const std::vector<float> a = mask_values(ref.output(h.output), h.activation);
      const std::vector<float> b = mask_values(tst.output(h.output), h.activation);
      int64_t inter = 0, uni = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        const bool x = a[i] >= h.threshold, y = b[i] >= h.threshold;
        inter += x && y;
        uni += x || y;
      }
      mask_iou_sum += uni ? static_cast<double>(inter) / static_cast<double>(uni) : 1.0;
    }
    if (progress) progress(s + 1, source.size());
  }
  report.samples = source.size();
  for (int o = 0; o < ref.num_outputs(); ++o) {
    report.outputs.push_back(
        {tst.output(o).name, out_acc[static_cast<size_t>(o)].result(), within[static_cast<size_t>(o)]});
  }
  if (detector) {
    det_total.mean_iou = det_total.found ? iou_sum / det_total.found : 0;
    report.detections = det_total;
  }
  if (segmenter && source.size() > 0) report.mask_iou = mask_iou_sum / source.size();
  for (size_t k = 0; k < pairs.size(); ++k) {
    std::string name = tst.graph().tensors[static_cast<size_t>(pairs[k].test)].name;
    if (pairs[k].clip > 0) name += fmt::format(" (within +-{:g})", pairs[k].clip);
    report.layers.push_back({pairs[k].op, pairs[k].op_name, name, layer_acc[k].result()});
  }
  return report;
}

}  // namespace

ComparisonReport compare_graphs(const Graph& reference, const Graph& test, const SampleSource& source,
                                const CompareOptions& options,
                                const std::function<void(int, int)>& progress) {
  if (options.backend == "ref") {
    GraphRunner ref(live_graph(reference));
    GraphRunner tst(live_graph(test));
    return compare_runs(ref, tst, source, options, progress);
  }
  if (options.per_layer) {
    // Every tensor is compared: keep them all where the backends would hide them.
    const auto keep = StackGraphRunner::Keep::kAll;
    StackGraphRunner ref(live_view(reference), options.backend, options.threads, keep);
    StackGraphRunner tst(live_view(test), options.backend, options.threads, keep);
    return compare_runs(ref, tst, source, options, progress);
  }
  StackRunner ref(reference, "reference", options);
  StackRunner tst(test, "test", options);
  return compare_runs(ref, tst, source, options, progress);
}

namespace {

std::string snr_str(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.1f}", v);
}

}  // namespace

bool more_accurate(const ComparisonReport& a, const ComparisonReport& b) {
  auto key = [](const ComparisonReport& r) {
    double found = 0, others = 0, iou = 0;
    if (r.detections) {
      found = r.detections->found;
      others = -static_cast<double>(r.detections->test - r.detections->found);
      iou = r.detections->mean_iou;
    }
    double snr = 0;
    for (const OutputReport& o : r.outputs) snr += std::min(o.metrics.snr_db, 200.0);  // +inf: equal
    if (!r.outputs.empty()) snr /= static_cast<double>(r.outputs.size());
    // The mean IoU of a few boxes moves by noise; the SNR is over every value.
    return std::tuple(found, others, r.mask_iou.value_or(0.0), snr, iou);
  };
  return key(a) > key(b);
}

std::string summarize_accuracy(const ComparisonReport& r) {
  std::string snrs;
  for (const OutputReport& o : r.outputs)
    snrs += fmt::format("{}{}", snrs.empty() ? "" : ", ", snr_str(o.metrics.snr_db));
  std::string s = fmt::format("SNR {} dB", snrs);
  if (r.detections) {
    s += fmt::format("; {} of {} detections found (IoU {:.3f}), {} quantized", r.detections->found,
                     r.detections->reference, r.detections->mean_iou, r.detections->test);
  }
  if (r.mask_iou) s += fmt::format("; mask IoU {:.4f}", *r.mask_iou);
  return s;
}

std::string format_report(const ComparisonReport& r, int worst_layers) {
  std::string s = fmt::format("accuracy on {} sample{} (float model vs quantized, after dequantization):\n",
                              r.samples, r.samples == 1 ? "" : "s");
  s += fmt::format("  {:<44} {:>8} {:>9} {:>12} {:>12}\n", "output", "SNR dB", "cosine", "max |err|",
                   "max |float|");
  for (const OutputReport& o : r.outputs) {
    const std::string name = o.within > 0 ? fmt::format("{} (within +-{:g})", o.name, o.within) : o.name;
    s += fmt::format("  {:<44} {:>8} {:>9.5f} {:>12.5g} {:>12.5g}\n", name, snr_str(o.metrics.snr_db),
                     o.metrics.cosine, o.metrics.max_abs_error, o.metrics.ref_abs_max);
  }
  if (r.detections) {
    const DetectionMatch& d = *r.detections;
    s += fmt::format(
        "  detections: {} of {} float detections found again at IoU >= 0.5 ({:.1f}%, mean IoU {:.3f}); "
        "{} quantized detections\n",
        d.found, d.reference, d.reference ? 100.0 * d.found / d.reference : 100.0, d.mean_iou, d.test);
  }
  if (r.mask_iou) s += fmt::format("  segmentation: mean mask IoU {:.4f}\n", *r.mask_iou);
  if (!r.layers.empty()) {
    s += fmt::format("per layer ({} tensors matched by name), in op order:\n", r.layers.size());
    s += fmt::format("  {:>4} {:<20} {:<48} {:>8} {:>9} {:>12}\n", "op", "kind", "tensor", "SNR dB", "cosine",
                     "max |err|");
    for (const LayerReport& l : r.layers) {
      s += fmt::format("  {:>4} {:<20} {:<48} {:>8} {:>9.5f} {:>12.5g}\n", l.op_index, l.op, l.tensor,
                       snr_str(l.metrics.snr_db), l.metrics.cosine, l.metrics.max_abs_error);
    }
    std::vector<const LayerReport*> sorted;
    for (const LayerReport& l : r.layers) sorted.push_back(&l);
    // The biggest drop in SNR from a layer's inputs is what hurts; the lowest SNR is the simple proxy.
    std::sort(sorted.begin(), sorted.end(), [](const LayerReport* a, const LayerReport* b) {
      return a->metrics.snr_db < b->metrics.snr_db;
    });
    s += "lowest SNR:\n";
    for (int i = 0; i < worst_layers && i < static_cast<int>(sorted.size()); ++i) {
      s += fmt::format("  op {} {} '{}': {} dB\n", sorted[static_cast<size_t>(i)]->op_index,
                       sorted[static_cast<size_t>(i)]->op, sorted[static_cast<size_t>(i)]->tensor,
                       snr_str(sorted[static_cast<size_t>(i)]->metrics.snr_db));
    }
  }
  return s;
}

}  // namespace osprey::quant
