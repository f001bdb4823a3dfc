// The task-head registry and the manifest (zoo/models.json) parsing: every
// zoo entry parses into its head, and bad entries fail with one line naming
// the model and the field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "vision/heads/box_landmark_head.h"
#include "vision/heads/detection_head.h"
#include "vision/heads/head.h"
#include "vision/heads/landmark_head.h"
#include "vision/heads/postprocess_head.h"
#include "vision/heads/segmentation_head.h"
#include "vision/image_io.h"
#include "vision/model_metadata.h"
#include "vision/test_images.h"

namespace osprey::vision {
namespace {

using nlohmann::json;

json manifest() {
  const std::vector<uint8_t> bytes = read_file_bytes(testing::manifest_path());
  return json::parse(bytes.begin(), bytes.end());
}

// The zoo's entry for `name`, to mutate into bad ones.
json zoo_entry(const std::string& name) {
  const json zoo = manifest();
  for (const json& entry : zoo.at("models")) {
    if (entry.at("name") == name) return entry;
  }
  ADD_FAILURE() << name << " is not in the zoo";
  return json::object();
}

// The error parse_model_spec raises for `entry`; fails the test when none.
std::string spec_parse_error(const json& entry) {
  try {
    parse_model_spec("m", entry.dump());
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
    return message;
  }
  ADD_FAILURE() << "expected an error for " << entry.dump();
  return "";
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

TEST(HeadRegistry, FindsEachHeadByItsManifestName) {
  EXPECT_EQ(find_head_parser("ssd-detection"), &DetectionHead::parse);
  EXPECT_EQ(find_head_parser("segmentation"), &SegmentationHead::parse);
  EXPECT_EQ(find_head_parser("landmarks"), &LandmarkHead::parse);
  EXPECT_EQ(find_head_parser("box-landmarks"), &BoxLandmarkHead::parse);
  EXPECT_EQ(find_head_parser("objectron"), nullptr);
  EXPECT_EQ(find_head_parser("tflite-detection-postprocess"), &PostprocessHead::parse);
  EXPECT_EQ(head_types(), (std::vector<std::string>{"box-landmarks", "landmarks", "segmentation",
                                                    "ssd-detection", "tflite-detection-postprocess"}));
}

TEST(HeadRegistry, UnknownHeadIsOneLineListingTheKnownOnes) {
  json entry = zoo_entry("selfie_segmentation");
  entry["head"]["type"] = "objectron";
  const std::string message = spec_parse_error(entry);
  expect_contains(message, "m.head.type: unknown head 'objectron'");
  expect_contains(
      message, "known: box-landmarks, landmarks, segmentation, ssd-detection, tflite-detection-postprocess");
}

TEST(Manifest, EveryZooHeadParsesAndDetectorsMatchTheirBoxCount) {
  int heads = 0;
  const json zoo = manifest();
  for (const json& entry : zoo.at("models")) {
    const std::string name = entry.at("name");
    if (!entry.contains("head")) {
      EXPECT_THROW(load_model_spec(testing::manifest_path(), name), Error) << name;
      continue;
    }
    ++heads;
    const ModelSpec spec = load_model_spec(testing::manifest_path(), name);
    EXPECT_EQ(spec.task, entry.at("task")) << name;
    ASSERT_NE(spec.head, nullptr) << name;
    EXPECT_EQ(spec.head->type(), entry.at("head").at("type")) << name;
    if (const auto* detector = spec.find_head<DetectionHead>()) {
      EXPECT_EQ(detector->anchors().size(), static_cast<size_t>(detector->params().decoder.num_boxes))
          << name;
      EXPECT_EQ(detector->params().anchors.input_width, spec.input.width) << name;
      EXPECT_FALSE(spec.labels.empty()) << name;
    }
  }
  EXPECT_GE(heads, 19);
}

// The quantizer bounds a detector's scores where its decoder clamps them
// before the sigmoid, and nothing else (osprey quantize).
TEST(Manifest, DetectorsBoundTheScoresTheyClamp) {
  const ModelSpec face = load_model_spec(testing::manifest_path(), "face_detection_short_range");
  const std::vector<OutputBound> bounds = face.head->output_bounds();
  ASSERT_EQ(bounds.size(), 1u);
  EXPECT_EQ(bounds[0].output, face.head_as<DetectionHead>().params().scores_output);
  EXPECT_EQ(bounds[0].limit, 100.0f);
  EXPECT_EQ(bounds[0].field, "decoder.score_clipping_thresh");

  json entry = zoo_entry("face_detection_short_range");
  entry["head"]["decoder"].erase("score_clipping_thresh");
  EXPECT_TRUE(parse_model_spec("m", entry.dump()).head->output_bounds().empty());
  entry["head"]["decoder"]["score_clipping_thresh"] = 100.0;
  entry["head"]["decoder"]["score_activation"] = "none";  // clamped only before a sigmoid
  EXPECT_TRUE(parse_model_spec("m", entry.dump()).head->output_bounds().empty());
  EXPECT_TRUE(load_model_spec(testing::manifest_path(), "selfie_segmentation").head->output_bounds().empty());
}

TEST(Manifest, HeadAsTheWrongKindIsOneLine) {
  const ModelSpec spec = load_model_spec(testing::manifest_path(), "selfie_segmentation");
  EXPECT_EQ(spec.find_head<DetectionHead>(), nullptr);
  try {
    (void)spec.head_as<DetectionHead>();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    expect_contains(e.what(), "model 'selfie_segmentation' is a segmentation model");
  }
}

TEST(Manifest, MissingParameterNamesModelAndField) {
  json entry = zoo_entry("face_detection_short_range");
  entry["head"]["decoder"].erase("num_boxes");
  expect_contains(spec_parse_error(entry), "m.head.decoder: missing field 'num_boxes'");

  entry = zoo_entry("face_detection_short_range");
  entry["head"].erase("nms");
  expect_contains(spec_parse_error(entry), "m.head: missing field 'nms'");

  entry = zoo_entry("selfie_segmentation");
  entry["head"].erase("type");
  expect_contains(spec_parse_error(entry), "m.head: missing field 'type'");

  entry = zoo_entry("selfie_segmentation");
  entry["head"].erase("input");
  expect_contains(spec_parse_error(entry), "m.head: missing field 'input'");

  entry = zoo_entry("selfie_segmentation");
  entry.erase("head");
  expect_contains(spec_parse_error(entry), "no task metadata for model 'm'");
}

TEST(Manifest, InvalidParameterNamesModelAndField) {
  json entry = zoo_entry("face_detection_short_range");
  entry["head"]["input"]["width"] = "wide";
  expect_contains(spec_parse_error(entry), "m.head.input.width");

  entry = zoo_entry("face_detection_short_range");
  entry["head"]["anchors"]["strides"] = "8";
  expect_contains(spec_parse_error(entry), "m.head.anchors.strides");

  entry = zoo_entry("face_detection_short_range");
  entry["head"]["decoder"]["score_activation"] = "relu";
  expect_contains(spec_parse_error(entry), "m.head: unknown score activation 'relu'");

  entry = zoo_entry("face_detection_short_range");
  entry["head"]["decoder"]["num_boxes"] = 895;
  expect_contains(spec_parse_error(entry), "m.head: anchor settings give 896 anchors but num_boxes is 895");

  entry = zoo_entry("selfie_segmentation");
  entry["head"]["activation"] = "softmax";
  expect_contains(spec_parse_error(entry), "m.head.activation: 'softmax'");

  entry = zoo_entry("selfie_segmentation");
  entry["head"]["threshold"] = "half";
  expect_contains(spec_parse_error(entry), "m.head.threshold");
}

TEST(Manifest, BadFilesAndUnknownModels) {
  EXPECT_THROW(parse_model_spec("m", "{not json"), Error);
  try {
    load_model_spec(testing::manifest_path(), "no_such_model");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    expect_contains(e.what(), "no task metadata for model 'no_such_model'");
  }
}

TEST(ModelOutputs, MissingOutputIsAnError) {
  const ModelOutputs outputs("m", {});
  EXPECT_EQ(outputs.size(), 0);
  EXPECT_THROW(outputs.at(0), Error);
}

}  // namespace
}  // namespace osprey::vision
