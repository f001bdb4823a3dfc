// TFLite_Detection_PostProcess: decodes SSD box encodings against anchors and
// runs non-max suppression, with TFLite's semantics:
//  - decode (in double, like TFLite): yc = y / y_scale * ah + ay, xc likewise,
//    half_h = 0.5 exp(h / h_scale) ah, half_w likewise; boxes are ymin, xmin, ymax, xmax;
//  - a candidate passes the score threshold when score >= nms_score_threshold and is
//    suppressed by a kept box when their IoU > nms_iou_threshold;
//  - candidates sort by decreasing score, ties by anchor index (TFLite's stable sort);
//  - regular NMS runs per class (at most min(detections_per_class, max_detections)
//    each) and merges the classes in class order, earlier classes first on equal
//    scores (TFLite's stable merge), keeping max_detections;
//  - fast NMS runs once on each anchor's best class score (the first best class
//    on ties, TFLite's argmax) and reports its top max_classes_per_detection
//    classes; TFLite orders these with std::partial_sort, which leaves equal
//    scores in no defined order, so here the lower class comes first;
//  - class predictions carry one leading background column when they have
//    num_classes + 1 columns; reported classes never count it;
//  - uint8 (and, beyond TFLite, int8) inputs are dequantized first; outputs are float.
// Slots past the detection count are zero. Eval never allocates: every buffer
// is sized in prepare.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/kernel.h"

namespace osprey::ref {
namespace {

struct CornerBox {
  float ymin, xmin, ymax, xmax;
};

struct Candidate {
  float score;
  int index;  // anchor * columns + column
};

// Reads a float, uint8 or int8 tensor as floats (TFLite: (q - zero point) * scale).
class Values {
 public:
  void prepare(const Tensor& t, const char* what) {
    type_ = t.type;
    OSPREY_CHECK(type_ == DType::kFloat32 || type_ == DType::kUInt8 || type_ == DType::kInt8,
                 "{} is {}, expected float32, uint8 or int8", what, dtype_name(type_));
    OSPREY_CHECK(t.sparsity == nullptr, "{} is sparse", what);
    if (type_ == DType::kFloat32) return;
    OSPREY_CHECK(t.quant.scale.size() == 1, "{} is {} without per-tensor quantization", what,
                 dtype_name(type_));
    scale_ = t.quant.scale[0];
    OSPREY_CHECK(std::isfinite(scale_) && scale_ > 0, "{} has scale {}", what, scale_);
    zero_point_ = t.quant.zero_point.empty() ? 0 : static_cast<int32_t>(t.quant.zero_point[0]);
  }
  float at(const uint8_t* data, int64_t i) const {
    switch (type_) {
      case DType::kUInt8: return static_cast<float>(int32_t{data[i]} - zero_point_) * scale_;
      case DType::kInt8:
        return static_cast<float>(int32_t{reinterpret_cast<const int8_t*>(data)[i]} - zero_point_) * scale_;
      default: return reinterpret_cast<const float*>(data)[i];
    }
  }
  bool is_float() const { return type_ == DType::kFloat32; }

 private:
  DType type_ = DType::kFloat32;
  float scale_ = 1;
  int32_t zero_point_ = 0;
};

// Decreasing score, then increasing index: a total order even with NaN (lowest).
bool ranks_before(float a, int ia, float b, int ib) {
  const float ka = std::isnan(a) ? -INFINITY : a;
  const float kb = std::isnan(b) ? -INFINITY : b;
  return ka > kb || (ka == kb && ia < ib);
}

float intersection_over_union(const CornerBox& a, const CornerBox& b) {
  const float area_a = (a.ymax - a.ymin) * (a.xmax - a.xmin);
  const float area_b = (b.ymax - b.ymin) * (b.xmax - b.xmin);
  if (area_a <= 0 || area_b <= 0) return 0.0f;
  const float ymin = std::max(a.ymin, b.ymin);
  const float xmin = std::max(a.xmin, b.xmin);
  const float ymax = std::min(a.ymax, b.ymax);
  const float xmax = std::min(a.xmax, b.xmax);
  const float intersection = std::max(ymax - ymin, 0.0f) * std::max(xmax - xmin, 0.0f);
  return intersection / (area_a + area_b - intersection);
}

class DetectionPostprocess final : public Kernel {
 public:
  void prepare(KernelContext& ctx) override {
    o_ = ctx.options<DetectionPostprocessOptions>();
    // The option parser checks these; a graph built in code may not have been through it.
    OSPREY_CHECK(o_.max_detections >= 1 && o_.max_classes_per_detection >= 1 && o_.num_classes >= 1 &&
                     int64_t{o_.max_detections} * o_.max_classes_per_detection <= (1 << 16) &&
                     (!o_.use_regular_nms || o_.detections_per_class >= 1),
                 "options out of range (max_detections {}, max_classes_per_detection {}, num_classes {}, "
                 "detections_per_class {})",
                 o_.max_detections, o_.max_classes_per_detection, o_.num_classes, o_.detections_per_class);
    OSPREY_CHECK(ctx.num_inputs() == 3 && ctx.num_outputs() == 4,
                 "has {} inputs and {} outputs, expected 3 (box encodings, class predictions, anchors) and 4",
                 ctx.num_inputs(), ctx.num_outputs());
    for (int i = 0; i < 3; ++i) OSPREY_CHECK(ctx.has_input(i), "input {} is missing", i);
    const Tensor& boxes = ctx.input(0);
    const Tensor& classes = ctx.input(1);
    const Tensor& anchors = ctx.input(2);
    OSPREY_CHECK(boxes.rank() == 3 && boxes.dim(0) == 1 && boxes.dim(2) >= 4,
                 "box encodings have shape {}, expected [1, boxes, 4 or more]", shape_str(boxes.shape));
    num_boxes_ = boxes.dim(1);
    coords_ = boxes.dim(2);
    OSPREY_CHECK(classes.rank() == 3 && classes.dim(0) == 1 && classes.dim(1) == num_boxes_,
                 "class predictions have shape {}, expected [1, {}, classes]", shape_str(classes.shape),
                 num_boxes_);
    columns_ = classes.dim(2);
    OSPREY_CHECK(columns_ == o_.num_classes || columns_ == o_.num_classes + 1,
                 "class predictions have {} columns, expected num_classes {} (or one more for background)",
                 columns_, o_.num_classes);
    label_offset_ = columns_ - o_.num_classes;
    OSPREY_CHECK(anchors.rank() == 2 && anchors.dim(0) == num_boxes_ && anchors.dim(1) == 4,
                 "anchors have shape {}, expected [{}, 4]", shape_str(anchors.shape), num_boxes_);
    box_values_.prepare(boxes, "box encodings");
    class_values_.prepare(classes, "class predictions");
    anchor_values_.prepare(anchors, "anchors");

    slots_ = o_.max_detections * o_.max_classes_per_detection;
    const Shape shapes[] = {{1, slots_, 4}, {1, slots_}, {1, slots_}, {1}};
    for (int i = 0; i < 4; ++i) {
      Tensor& out = ctx.output(i);
      OSPREY_CHECK(out.type == DType::kFloat32, "output {} is {}, expected float32", i, dtype_name(out.type));
      out.shape = shapes[i];
    }

    const auto boxes_count = static_cast<size_t>(num_boxes_);
    const size_t categories = static_cast<size_t>(std::min(o_.max_classes_per_detection, o_.num_classes));
    const size_t per_box =
        4 * sizeof(anchors_[0]) + sizeof(decoded_[0]) + sizeof(class_scores_[0]) + sizeof(keep_[0]) +
        sizeof(active_[0]) + sizeof(selected_[0]) +
        (class_values_.is_float() ? 0 : static_cast<size_t>(columns_) * sizeof(scores_[0])) +
        (o_.use_regular_nms ? 0 : categories * sizeof(top_classes_[0]));
    ctx.reserve_tables(boxes_count * per_box, "per-box scratch");
    anchors_constant_ = anchors.is_constant;
    anchors_.resize(boxes_count * 4);
    if (anchors_constant_) {
      OSPREY_CHECK(anchors.data != nullptr || num_boxes_ == 0, "anchors have no data");
      read_anchors(anchors.data);
      OSPREY_CHECK(anchors_valid(), "anchors have a negative height or width");
    }
    decoded_.resize(boxes_count);
    if (!class_values_.is_float()) scores_.resize(boxes_count * static_cast<size_t>(columns_));
    class_scores_.resize(boxes_count);
    keep_.resize(boxes_count);
    active_.resize(boxes_count);
    selected_.resize(boxes_count);
    if (o_.use_regular_nms) {
      merged_.resize(2 * static_cast<size_t>(o_.max_detections));
      merge_buffer_.resize(merged_.size());
    } else {
      categories_ = static_cast<int>(categories);
      top_classes_.resize(boxes_count * static_cast<size_t>(categories_));
      class_order_.resize(static_cast<size_t>(o_.num_classes));
    }
  }

  void eval(KernelContext& ctx) override {
    float* out_boxes = ctx.output(0).data_as<float>();
    float* out_classes = ctx.output(1).data_as<float>();
    float* out_scores = ctx.output(2).data_as<float>();
    float* out_count = ctx.output(3).data_as<float>();
    std::fill(out_boxes, out_boxes + 4 * static_cast<int64_t>(slots_), 0.0f);
    std::fill(out_classes, out_classes + slots_, 0.0f);
    std::fill(out_scores, out_scores + slots_, 0.0f);
    out_count[0] = 0;
    if (!anchors_constant_) {
      read_anchors(ctx.input(2).data);
      // TFLite fails on boxes with ymin > ymax; eval cannot fail, so it reports none.
      if (!anchors_valid()) return;
    }
    decode(ctx.input(0).data);
    const float* scores = class_scores_table(ctx.input(1).data);
    Output out{out_boxes, out_classes, out_scores};
    out_count[0] = static_cast<float>(o_.use_regular_nms ? regular_nms(scores, out) : fast_nms(scores, out));
  }

 private:
  struct Output {
    float* boxes;
    float* classes;
    float* scores;
    void put(int slot, const CornerBox& box, int class_id, float score) const {
      std::memcpy(boxes + 4 * static_cast<int64_t>(slot), &box, sizeof box);
      classes[slot] = static_cast<float>(class_id);
      scores[slot] = score;
    }
  };

  void read_anchors(const uint8_t* data) {
    for (size_t i = 0; i < anchors_.size(); ++i)
      anchors_[i] = anchor_values_.at(data, static_cast<int64_t>(i));
  }
  bool anchors_valid() const {
    for (size_t i = 0; i < anchors_.size(); i += 4) {
      if (anchors_[i + 2] < 0 || anchors_[i + 3] < 0) return false;  // anchor y, x, h, w
    }
    return true;
  }

  void decode(const uint8_t* encodings) {
    const double ys = o_.y_scale, xs = o_.x_scale, hs = o_.h_scale, ws = o_.w_scale;
    for (int b = 0; b < num_boxes_; ++b) {
      const int64_t e = static_cast<int64_t>(b) * coords_;
      const double y = box_values_.at(encodings, e), x = box_values_.at(encodings, e + 1);
      const double h = box_values_.at(encodings, e + 2), w = box_values_.at(encodings, e + 3);
      const float* a = &anchors_[4 * static_cast<size_t>(b)];
      const auto yc = static_cast<float>(y / ys * a[2] + a[0]);
      const auto xc = static_cast<float>(x / xs * a[3] + a[1]);
      const auto half_h = static_cast<float>(0.5 * std::exp(h / hs) * a[2]);
      const auto half_w = static_cast<float>(0.5 * std::exp(w / ws) * a[3]);
      decoded_[static_cast<size_t>(b)] = {yc - half_h, xc - half_w, yc + half_h, xc + half_w};
    }
  }

  const float* class_scores_table(const uint8_t* data) {
    if (class_values_.is_float()) return reinterpret_cast<const float*>(data);
    for (size_t i = 0; i < scores_.size(); ++i) scores_[i] = class_values_.at(data, static_cast<int64_t>(i));
    return scores_.data();
  }

  // Greedy NMS of class_scores_ over all anchors; fills selected_ (best first) and returns its size.
  int single_class_nms(int max_selected) {
    int kept = 0;
    for (int b = 0; b < num_boxes_; ++b) {
      const float s = class_scores_[static_cast<size_t>(b)];
      if (s >= o_.nms_score_threshold) keep_[static_cast<size_t>(kept++)] = {s, b};
    }
    std::sort(keep_.begin(), keep_.begin() + kept, [](const Candidate& a, const Candidate& b) {
      return ranks_before(a.score, a.index, b.score, b.index);
    });
    const int limit = std::min(kept, max_selected);
    std::fill(active_.begin(), active_.begin() + kept, uint8_t{1});
    int active = kept, count = 0;
    for (int i = 0; i < kept && active > 0 && count < limit; ++i) {
      if (!active_[static_cast<size_t>(i)]) continue;
      active_[static_cast<size_t>(i)] = 0;
      --active;
      const CornerBox& best = decoded_[static_cast<size_t>(keep_[static_cast<size_t>(i)].index)];
      selected_[static_cast<size_t>(count++)] = keep_[static_cast<size_t>(i)].index;
      for (int j = i + 1; j < kept; ++j) {
        if (!active_[static_cast<size_t>(j)]) continue;
        const CornerBox& other = decoded_[static_cast<size_t>(keep_[static_cast<size_t>(j)].index)];
        if (intersection_over_union(best, other) > o_.nms_iou_threshold) {
          active_[static_cast<size_t>(j)] = 0;
          --active;
        }
      }
    }
    return count;
  }

  int regular_nms(const float* scores, const Output& out) {
    const int per_class = std::min(o_.detections_per_class, o_.max_detections);
    int size = 0;  // merged_[0, size): best first
    for (int c = 0; c < o_.num_classes; ++c) {
      const int column = c + label_offset_;
      for (int b = 0; b < num_boxes_; ++b)
        class_scores_[static_cast<size_t>(b)] = scores[static_cast<int64_t>(b) * columns_ + column];
      const int n = single_class_nms(per_class);
      // Stable merge of the kept list and this class's picks (both best first).
      int i = 0, j = 0, k = 0;
      const int total = std::min(size + n, o_.max_detections);
      while (k < total) {
        const bool take_new =
            i >= size || (j < n && class_scores_[static_cast<size_t>(selected_[static_cast<size_t>(j)])] >
                                       merged_[static_cast<size_t>(i)].score);
        if (take_new) {
          const int b = selected_[static_cast<size_t>(j++)];
          merge_buffer_[static_cast<size_t>(k++)] = {class_scores_[static_cast<size_t>(b)],
                                                     b * columns_ + column};
        } else {
          merge_buffer_[static_cast<size_t>(k++)] = merged_[static_cast<size_t>(i++)];
        }
      }
      std::copy(merge_buffer_.begin(), merge_buffer_.begin() + total, merged_.begin());
      size = total;
    }
    for (int k = 0; k < size; ++k) {
      const Candidate& d = merged_[static_cast<size_t>(k)];
      const int anchor = d.index / columns_;
      out.put(k, decoded_[static_cast<size_t>(anchor)], d.index - anchor * columns_ - label_offset_, d.score);
    }
    return size;
  }

  int fast_nms(const float* scores, const Output& out) {
    for (int b = 0; b < num_boxes_; ++b) {
      const float* row = scores + static_cast<int64_t>(b) * columns_ + label_offset_;
      int* top = &top_classes_[static_cast<size_t>(b) * static_cast<size_t>(categories_)];
      if (categories_ == 1) {
        int best = 0;  // TFLite's argmax: the first maximum
        for (int c = 1; c < o_.num_classes; ++c) {
          if (row[c] > row[best]) best = c;
        }
        top[0] = best;
      } else {
        for (int c = 0; c < o_.num_classes; ++c) class_order_[static_cast<size_t>(c)] = c;
        std::partial_sort(class_order_.begin(), class_order_.begin() + categories_, class_order_.end(),
                          [row](int a, int c) { return ranks_before(row[a], a, row[c], c); });
        std::copy(class_order_.begin(), class_order_.begin() + categories_, top);
      }
      class_scores_[static_cast<size_t>(b)] = row[top[0]];
    }
    const int n = single_class_nms(o_.max_detections);
    for (int k = 0; k < n; ++k) {
      const int b = selected_[static_cast<size_t>(k)];
      const float* row = scores + static_cast<int64_t>(b) * columns_ + label_offset_;
      const int* top = &top_classes_[static_cast<size_t>(b) * static_cast<size_t>(categories_)];
      for (int c = 0; c < categories_; ++c)
        out.put(k * o_.max_classes_per_detection + c, decoded_[static_cast<size_t>(b)], top[c], row[top[c]]);
    }
    return n;
  }

  DetectionPostprocessOptions o_;
  Values box_values_, class_values_, anchor_values_;
  int num_boxes_ = 0, coords_ = 4, columns_ = 0, label_offset_ = 0, slots_ = 0, categories_ = 1;
  bool anchors_constant_ = false;
  std::vector<float> anchors_;  // y, x, h, w per anchor, dequantized
  std::vector<CornerBox> decoded_;
  std::vector<float> scores_;        // dequantized class predictions
  std::vector<float> class_scores_;  // one score per anchor for the NMS at hand
  std::vector<Candidate> keep_;
  std::vector<uint8_t> active_;
  std::vector<int> selected_;
  std::vector<Candidate> merged_, merge_buffer_;  // regular NMS
  std::vector<int> top_classes_, class_order_;    // fast NMS
};

}  // namespace

// Factory the op registry (src/ops/detection_ops.cpp) names.
extern const KernelFactory detection_postprocess_kernel = make_kernel<DetectionPostprocess>;

}  // namespace osprey::ref
