// The head for models ending in TFLite_Detection_PostProcess: found from the
// graph (output positions, background offset), parsed from a manifest, and its
// decode of the op's four outputs into image-pixel detections.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "vision/heads/postprocess_head.h"
#include "vision/model_metadata.h"
#include "vision/test_images.h"

namespace osprey::vision {
namespace {

Tensor named(const std::string& name, Shape shape, std::vector<float>& storage) {
  return testing::float_tensor(std::move(shape), storage, name);
}

// boxes, classes, scores, count of a post-process op with `columns` class columns.
Graph postprocess_graph(int columns, int num_classes, bool outputs_swapped) {
  Graph g;
  for (const char* name : {"boxes_in", "scores_in", "anchors", "boxes", "classes", "scores", "count"}) {
    Tensor t;
    t.name = name;
    g.tensors.push_back(t);
  }
  g.tensors[1].shape = {1, 5, columns};
  Op op;
  op.code = static_cast<int32_t>(OpCode::kCustom);
  op.custom_code = "TFLite_Detection_PostProcess";
  DetectionPostprocessOptions o;
  o.num_classes = num_classes;
  o.max_detections = 3;
  o.max_classes_per_detection = 1;
  op.options = o;
  op.inputs = {0, 1, 2};
  op.outputs = {3, 4, 5, 6};
  g.ops.push_back(op);
  g.inputs = {0, 1};
  g.outputs = outputs_swapped ? std::vector<int>{6, 5, 4, 3} : std::vector<int>{3, 4, 5, 6};
  return g;
}

TEST(PostprocessHead, FoundFromTheGraph) {
  auto head = PostprocessHead::from_graph(postprocess_graph(24, 23, false));
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->params().label_offset, 1);  // a background column
  EXPECT_EQ(head->params().boxes_output, 0);
  EXPECT_EQ(head->params().count_output, 3);

  head = PostprocessHead::from_graph(postprocess_graph(23, 23, true));
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->params().label_offset, 0);
  EXPECT_EQ(head->params().boxes_output, 3);
  EXPECT_EQ(head->params().count_output, 0);

  Graph g = postprocess_graph(24, 23, false);
  g.outputs.pop_back();  // the count is not a model output
  EXPECT_EQ(PostprocessHead::from_graph(g), nullptr);
  g = postprocess_graph(24, 23, false);
  g.ops.back().custom_code = "SomethingElse";
  EXPECT_EQ(PostprocessHead::from_graph(g), nullptr);
  EXPECT_EQ(PostprocessHead::from_graph(Graph{}), nullptr);
}

TEST(PostprocessHead, DecodesCountedSlotsToImagePixels) {
  std::vector<float> boxes = {0.1f, 0.2f, 0.5f, 0.6f, 0, 0, 1, 1, 9, 9, 9, 9};
  std::vector<float> classes = {4, 0, 7};
  std::vector<float> scores = {0.9f, 0.3f, 0.8f};
  std::vector<float> count = {2};
  const Tensor tensors[] = {named("boxes", {1, 3, 4}, boxes), named("classes", {1, 3}, classes),
                            named("scores", {1, 3}, scores), named("count", {1}, count)};
  const ModelOutputs outputs("m", {&tensors[0], &tensors[1], &tensors[2], &tensors[3]});
  const InputTransform geometry = make_input_transform(200, 100, 300, 300, ResizeMode::kStretch);
  PostprocessParams p;
  p.label_offset = 1;
  const PostprocessHead head(p);
  const auto found = head.decode(outputs, geometry);
  ASSERT_EQ(found.size(), 2u);  // the third slot is past the count
  EXPECT_EQ(found[0].class_id, 5);
  EXPECT_FLOAT_EQ(found[0].score, 0.9f);
  EXPECT_NEAR(found[0].box.xmin, 0.2f * 200, 1e-3);
  EXPECT_NEAR(found[0].box.ymin, 0.1f * 100, 1e-3);
  EXPECT_NEAR(found[0].box.xmax, 0.6f * 200, 1e-3);
  EXPECT_NEAR(found[0].box.ymax, 0.5f * 100, 1e-3);
  EXPECT_EQ(head.with_min_score(0.5f).decode(outputs, geometry).size(), 1u);

  count[0] = NAN;  // a count the model got wrong means nothing, not a crash
  EXPECT_TRUE(head.decode(outputs, geometry).empty());
  count[0] = 1e9f;
  EXPECT_EQ(head.decode(outputs, geometry).size(), 3u);
}

TEST(PostprocessHead, ParsesFromTheManifest) {
  const nlohmann::json entry = {{"name", "m"},
                                {"task", "object-detection"},
                                {"head",
                                 {{"type", "tflite-detection-postprocess"},
                                  {"input", {{"width", 300}, {"height", 300}, {"range", {-1.0, 1.0}}}},
                                  {"label_offset", 1},
                                  {"outputs", {{"boxes", 3}, {"classes", 2}, {"scores", 1}, {"count", 0}}}}}};
  const ModelSpec spec = parse_model_spec("m", entry.dump());
  const auto& head = spec.head_as<PostprocessHead>();
  EXPECT_EQ(head.params().label_offset, 1);
  EXPECT_EQ(head.params().boxes_output, 3);
  EXPECT_THROW(head.check_outputs("m", 3), Error);

  nlohmann::json bad = entry;
  bad["head"]["label_offset"] = -1;
  try {
    parse_model_spec("m", bad.dump());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("label_offset"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace osprey::vision
